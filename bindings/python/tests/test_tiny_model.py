"""The shipped tiny model (models/cwm-tiny-q8_0.gguf, trained by scripts/train-tiny.sh) as the
fixture for end-to-end trace prediction with a real vocabulary (SentencePiece, the trace tokens
as user-defined pieces): stepping a session frame by frame gives exactly the trace one plain
greedy generation writes from the same prompt (the KV-cache reuse changes nothing), `next`
steers past calls, output prediction agrees with the return frame the session predicts, and
evaluation runs. (How good the predictions are is measured by `cwm verify`: docs/tiny-model.md.)"""

import os
import sys

import pytest

import cwm
from cwm import tracer
from programs import SPEC_EXAMPLE

MODEL = os.path.join(os.path.dirname(__file__), "..", "..", "..", "models", "cwm-tiny-q8_0.gguf")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "scripts"))
import trace_steering  # noqa: E402

PROGRAMS = [
    SPEC_EXAMPLE,
    "def g(a, b):  # << START_OF_TRACE\n    s = a + b\n    if s > 5:\n        s = s - 5\n    return s * 2\n\ng(4, 3)\n",
    "def sq(x):\n    return x * x\n\ndef h(n):  # << START_OF_TRACE\n    out = []\n"
    "    for i in range(n):\n        out.append(sq(i))\n    return out\n\nh(3)\n",
]


@pytest.fixture(scope="module")
def tiny_trained():
    assert os.path.exists(MODEL), f"{MODEL} is missing: it ships with the repository (scripts/train-tiny.sh)"
    with cwm.Model(MODEL) as m:
        yield m


@pytest.mark.parametrize("source", PROGRAMS)
def test_stepping_equals_one_greedy_generation(tiny_trained, source):
    with cwm.Context(tiny_trained, n_ctx=4096, n_threads=1) as ctx:
        with cwm.TraceSession(ctx, source) as s:
            frames = s.predict(200)
            stepped = s.text
            assert frames, "the trained model writes frames"
            cost = s.tokens_evaluated
        prompt = tiny_trained.tokenize(cwm.trace_prompt(source), add_bos=False, parse_special=True)
        ctx.clear()
        generated = "".join(ctx.generate(prompt, max_tokens=len(tiny_trained.tokenize(stepped, add_bos=False,
                                                                                         parse_special=True)) + 1,
                                         parse_special=True))
    # Greedy generation stops at <|end_of_text|> without writing it; the session writes it.
    assert stepped.removesuffix("<|end_of_text|>") == generated
    # The prompt was evaluated once: the session cost its prompt plus what it wrote.
    assert cost <= len(prompt) + len(tiny_trained.tokenize(stepped, add_bos=False, parse_special=True))


def test_next_steers_past_calls_and_out_stops_at_a_return(tiny_trained):
    """Whatever the model predicts, `next` writes <|return_sep|> after every call frame but the
    entry's (the model then writes the callee's return frame directly), and `out` stops at the
    current function's return or exception frame."""
    source = PROGRAMS[2]  # h calls sq in a loop
    with cwm.Context(tiny_trained, n_ctx=4096, n_threads=1) as ctx, cwm.TraceSession(ctx, source) as s:
        for _ in range(12):
            if s.next() is None:
                break
        frames = s.frames
        assert frames and frames[0].event == "call"
        for i, f in enumerate(frames[1:-1], start=1):
            if f.event == "call":
                assert frames[i + 1].event == "return", (i, frames)
        s.reset()
        s.step()
        last = s.out()
        assert last is None or last.event in ("return", "exception")


def test_output_prediction_matches_the_sessions_own_return_frame(tiny_trained):
    actual = tracer.trace_program(PROGRAMS[1])
    with cwm.Context(tiny_trained, n_ctx=4096, n_threads=1) as ctx, cwm.TraceSession(ctx, PROGRAMS[1]) as s:
        value = s.predict_result(actual.frames[0].text())
        assert s.text.startswith(actual.frames[0].text() + "<|return_sep|>")
        assert value is None or value == s.frame(-1).value
        report = s.evaluate(actual.text)
        assert report["next_frame"]["frames"] == len(actual.frames)
        assert report["result"]["predicted"] == value


def _forced(model, source, trace):
    """The frames of `trace` as the library's parser reads them, forced into a session."""
    with cwm.Context(model, n_ctx=4096, n_threads=1) as ctx, cwm.TraceSession(ctx, source) as s:
        for frame in trace_steering.split_frames(trace)[0]:
            s.force(frame)
        assert not s.issues
        return s.frames


@pytest.mark.parametrize("source", [PROGRAMS[0], PROGRAMS[2]])
def test_steered_training_variants_read_as_the_full_traces_frames(tiny_trained, source):
    """scripts/trace_steering.py cuts the sequences `next` and output prediction make the model
    continue out of full traces, for training: the library's parser must read every kept frame
    (locals resolved through "..", line, value) exactly as in the full trace."""
    actual = tracer.trace_program(source).text
    full = _forced(tiny_trained, source, actual)
    skipped = _forced(tiny_trained, source, trace_steering.skip_callees(actual))
    by_line = [(f.event, f.line_number, f.resolved, f.value) for f in full]
    kept = [(f.event, f.line_number, f.resolved, f.value) for f in skipped]
    assert len(kept) < len(by_line)
    it = iter(by_line)
    assert all(frame in it for frame in kept)  # an ordered sub-sequence of the full trace
    assert kept[0] == by_line[0] and kept[-1] == by_line[-1]
    result = _forced(tiny_trained, source, trace_steering.result_only(actual))
    assert [(f.event, f.value) for f in result] == [("call", None), ("return", full[-1].value)]
