"""cwm.TraceSession and the trace functions, checked against the independent pure-Python tracer
(cwm.tracer): its prompt, its frames forced through the library and read back, evaluation
against its trace, and the ownership rules (a session keeps its context and sampler)."""

import pytest

import cwm
from cwm import tracer
from programs import SPEC_EXAMPLE

SOURCE = SPEC_EXAMPLE


@pytest.fixture(scope="module")
def actual():
    result = tracer.trace_program(SOURCE)
    assert result.status == "ok"
    return result


@pytest.fixture
def big_ctx(tiny):
    with cwm.Context(tiny, n_ctx=2048, n_threads=1) as c:
        yield c


def test_prompt_equals_the_tracers(actual):
    assert cwm.trace_prompt(SOURCE) == actual.prompt
    plain = SOURCE.replace("  # << START_OF_TRACE", "")
    assert cwm.trace_prompt(plain, entry="f") == tracer.build_prompt(plain, entry="f")
    with pytest.raises(cwm.InvalidArgumentError, match="no function is marked"):
        cwm.trace_prompt(plain)


def test_forced_frames_read_back_as_the_tracer_wrote_them(big_ctx, tiny, actual):
    with cwm.TraceSession(big_ctx, SOURCE, max_frame_tokens=16) as s:
        assert s.tokens_evaluated == s.prompt_tokens == len(tiny.tokenize(actual.prompt, add_bos=False, parse_special=True))
        for expected in actual.frames:
            before = s.tokens_evaluated
            got = s.force(expected.text())
            # Each forced frame costs exactly its own tokens: the KV cache is extended, not rebuilt.
            assert s.tokens_evaluated - before == len(tiny.tokenize(expected.text(), add_bos=False,
                                                                    parse_special=True))
            assert (got.event, got.line, got.line_number, got.value) == \
                (expected.event, expected.line, expected.line_number, expected.value)
            assert got.resolved == (expected.locals or {})
            assert got.locals == (expected.locals_raw or {})
        assert s.issues == []
        assert s.text == actual.text[:-len("<|end_of_text|>")]
        assert s.frame(-1) == s.frames[-1]
        with pytest.raises(IndexError):
            s.frame(len(actual.frames))
        assert s.back() and len(s) == len(actual.frames) - 1
        s.reset()
        assert len(s) == 0 and not s.back()


def test_compare_traces_of_the_tracer_with_itself(actual):
    same = cwm.compare_traces(SOURCE, actual.text, actual.text)
    assert same["frame_accuracy"] == 1.0 and same["first_divergence"] is None
    assert same["result_match"] and same["actual_result"] == actual.frames[-1].value
    cut = cwm.compare_traces(SOURCE, actual.frames[0].text(), actual.text)
    assert cut["exact_frames"] == 1 and cut["first_divergence"] == 1 and not cut["result_match"]


def test_evaluate_against_the_tracers_trace(big_ctx, actual):
    with cwm.TraceSession(big_ctx, SOURCE, max_frame_tokens=12) as s:
        e = s.evaluate(actual.text)
        n = len(actual.frames)
        assert e["actual_frames"] == n
        assert e["next_frame"]["frames"] == n and len(e["next_frame"]["per_frame"]) == n
        assert e["result"]["actual"] == actual.frames[-1].value
        assert e["free_running"]["actual_frames"] == n
        assert s.text == e["predicted_text"]  # the session holds the free-running prediction
        only = s.evaluate(actual.text, cwm.Measure.RESULT)
        assert only["free_running"] is None and only["next_frame"] is None
        with pytest.raises(cwm.InvalidArgumentError, match="malformed"):
            s.evaluate(actual.text[:40])


def test_output_prediction_steers_with_return_sep(big_ctx, actual):
    with cwm.TraceSession(big_ctx, SOURCE, max_frame_tokens=8) as s:
        value = s.predict_result(actual.frames[0].text())
        assert s.text.startswith(actual.frames[0].text() + "<|return_sep|>")
        # Noise writes no return frame; if it ever did, the value would be the last frame's.
        assert value is None or value == s.frame(-1).value
        with pytest.raises(cwm.InvalidArgumentError):
            s.predict_result("")


def test_closing_the_context_or_sampler_closes_the_session(tiny):
    ctx = cwm.Context(tiny, n_ctx=1024, n_threads=1)
    s = cwm.TraceSession(ctx, SOURCE)
    ctx.close()
    assert s.closed
    with pytest.raises(cwm.ClosedError):
        s.step()
    with cwm.Context(tiny, n_ctx=1024, n_threads=1) as ctx2, cwm.Sampler(temperature=0.8, seed=1) as sampler:
        s2 = cwm.TraceSession(ctx2, SOURCE, sampler=sampler, max_frame_tokens=4)
        s2.step()
        sampler.close()
        assert s2.closed and not ctx2.closed
        ctx2.decode([1, 2, 3])  # the context is free for other uses again


def test_bad_arguments(tiny, big_ctx):
    with pytest.raises(TypeError):
        cwm.TraceSession(tiny, SOURCE)
    with pytest.raises(cwm.InvalidArgumentError, match="max_frame_tokens"):
        cwm.TraceSession(big_ctx, SOURCE, max_frame_tokens=0)
    with pytest.raises(cwm.InvalidArgumentError, match="not defined|no function"):
        cwm.TraceSession(big_ctx, SOURCE, entry="nope")
