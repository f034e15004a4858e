"""Contexts, generation and sampling. Oracles: an argmax loop over Context.decode's logits for
greedy generation, numpy comparisons between decode paths, a fresh context that never stopped
for restored and rewound ones (bit for bit), the statuses cwm.h documents."""

import threading
import time

import numpy as np
import pytest

import cwm
from conftest import some_tokens


def generate_threads():
    return [t for t in threading.enumerate() if t.name == "cwm-generate"]


def fresh(model, **kw):
    kw.setdefault("n_ctx", 512)
    kw.setdefault("n_threads", 1)
    return cwm.Context(model, **kw)


def reference_logits(model, prefix, suffix, **kw):
    with fresh(model, **kw) as c:
        if prefix:
            c.decode(prefix)
        c.decode(suffix)
        return c.logits()


def test_greedy_generation_equals_an_argmax_loop(tiny, ctx):
    prompt = some_tokens(5)
    pairs = list(ctx.generate(prompt, 20, with_tokens=True))
    generated = [t for _, t in pairs if t >= 0]
    assert len(generated) == 20
    with fresh(tiny) as manual:
        manual.decode(prompt)
        for expected in generated:
            best = int(np.argmax(manual.logits()))
            assert best == expected
            manual.decode([best])
        # Both contexts now hold the same tokens and the same last logits.
        assert ctx.tokens == manual.tokens == prompt + generated
        assert np.array_equal(ctx.logits(), manual.logits())
    # The streamed text is the detokenized generation, whole characters only.
    assert "".join(p for p, _ in pairs) == tiny.detokenize(generated)


def test_text_prompts_get_bos_only_in_an_empty_context(tiny, ctx):
    list(ctx.generate("def f(x):", 2))
    assert ctx.tokens[: len(tiny.tokenize("def f(x):"))] == tiny.tokenize("def f(x):")
    n = ctx.n_past
    list(ctx.generate(" return", 2))
    assert ctx.tokens[n: n + 1] == tiny.tokenize(" return", add_bos=False)[:1]


def test_batched_prefill_and_token_by_token_decoding_agree(tiny):
    tokens = some_tokens(40)  # window 6: the local layers really cut
    with fresh(tiny) as batched, fresh(tiny) as stepped:
        batched.decode(tokens, n_logits=len(tokens))
        rows = batched.logits_all()
        assert rows.shape == (40, tiny.info.n_vocab) and rows.dtype == np.float32
        assert np.array_equal(rows[-1], batched.logits(39))
        for i, t in enumerate(tokens):
            stepped.decode([t])
            step = stepped.logits()
            # Bound from tests/api (sgemm vs row-wise sums, f16 rounding): 5e-3 of the std.
            assert np.max(np.abs(step - rows[i])) <= 5e-3 * np.std(rows[i]), i
            assert np.argmax(step) == np.argmax(rows[i])
    with fresh(tiny) as c:
        c.decode(np.array(tokens, dtype=np.int64), n_logits=1)  # numpy ids work as well
        assert c.tokens == tokens
        assert np.max(np.abs(c.logits() - rows[-1])) <= 5e-3 * np.std(rows[-1])


def test_decoding_is_identical_for_any_thread_count(tiny):
    tokens = some_tokens(12)
    results = []
    for threads in (1, 2):
        with fresh(tiny, n_threads=threads) as c:
            assert c.n_threads == threads
            for t in tokens:
                c.decode([t])
            results.append(c.logits())
    assert np.array_equal(results[0], results[1])


def test_logits_views_copies_and_lists(ctx, monkeypatch):
    ctx.decode(some_tokens(6))
    copy = ctx.logits()
    view = ctx.logits(copy=False)
    assert np.array_equal(copy, view)
    assert not view.flags.writeable
    copy[0] = 1e9  # a copy is the caller's
    assert ctx.logits()[0] != 1e9
    with pytest.raises(cwm.InvalidArgumentError):
        ctx.logits(1)  # only one row kept
    monkeypatch.setattr(cwm._context, "_np", None)
    as_list = ctx.logits()
    assert isinstance(as_list, list) and as_list == view.tolist()
    assert ctx.logits_all() == [as_list]


def test_a_full_context_and_bad_ids_are_reported_and_leave_it_usable(tiny):
    with fresh(tiny, n_ctx=16) as c:
        c.decode(some_tokens(10))
        with pytest.raises(cwm.ContextFullError) as e:
            c.decode(some_tokens(7))
        assert "16" in e.value.message and e.value.status == cwm.Status.CONTEXT_FULL
        assert c.n_past == 10
        with pytest.raises(cwm.InvalidArgumentError) as e:
            c.decode([5, 100000])
        assert "100000" in e.value.message
        with pytest.raises(cwm.InvalidArgumentError):
            c.decode([5], n_logits=2)
        with pytest.raises(cwm.InvalidArgumentError):
            c.decode([2 ** 40])
        with pytest.raises(TypeError):
            c.decode("text")
        assert c.n_past == 10
        c.decode(some_tokens(6))
        assert c.n_past == 16


def test_a_prompt_longer_than_the_context_is_context_full(tiny):
    with fresh(tiny, n_ctx=16) as c:
        gen = c.generate(some_tokens(20), 5)
        with pytest.raises(cwm.ContextFullError):
            next(gen)
        with pytest.raises(StopIteration):
            next(gen)
        assert c.n_past == 0
        with pytest.raises(cwm.ContextFullError):
            c.stream(some_tokens(20), lambda text, token: None, 5)
        # Generating past the end is context-full too, after the tokens that fit.
        with pytest.raises(cwm.ContextFullError):
            list(c.generate(some_tokens(10), 50))
        assert c.n_past <= 16


def test_break_stops_the_generation(tiny, ctx):
    prompt = some_tokens(4)
    gen = ctx.generate(prompt, 50, with_tokens=True)
    for i, _ in enumerate(gen):
        if i == 2:
            break
    assert len(gen.tokens) == 3
    n = ctx.n_past  # any use of the context finishes the stopped generation first
    assert n in (len(prompt) + 2, len(prompt) + 3)  # the last streamed token may be unevaluated
    assert ctx.tokens == prompt + gen.tokens[: n - len(prompt)]
    assert not generate_threads()
    with pytest.raises(StopIteration):
        next(gen)

    # A dropped iterator stops as well, and the context is usable right away.
    gen = ctx.generate(None, 50)
    next(gen)
    del gen
    assert not generate_threads()
    ctx.decode([1])

    # So does using the context while a generation is suspended.
    gen = ctx.generate(None, 50)
    next(gen)
    before = ctx.n_past
    assert not generate_threads()
    with pytest.raises(StopIteration):
        next(gen)
    assert ctx.n_past == before
    # Nothing runs before the first next().
    gen = ctx.generate(None, 5)
    assert ctx.n_past == before and not generate_threads()
    gen.close()
    assert list(gen) == []


def test_a_stream_callback_can_stop_and_its_exceptions_are_re_raised(tiny, ctx):
    prompt = some_tokens(5)
    calls = []
    text = ctx.stream(prompt, lambda piece, token: calls.append(token) or len(calls) < 3, 20)
    assert len(calls) == 3
    assert isinstance(text, str)

    class Boom(Exception):
        pass

    def explode(piece, token):
        calls.append(token)
        if len(calls) == 5:
            raise Boom("stop here")

    ctx.clear()
    calls.clear()
    with pytest.raises(Boom):
        ctx.stream(prompt, explode, 20)
    assert len(calls) == 5
    assert ctx.n_past in (len(prompt) + 4, len(prompt) + 5)
    # The exception did not leave the context locked or broken.
    ctx.stream(None, lambda p, t: None, 2)

    # A callback that uses its own (busy) context gets an error, not a corrupted context.
    def reenter(piece, token):
        ctx.decode([1])

    with pytest.raises(RuntimeError, match="in use"):
        ctx.stream(None, reenter, 2)


def test_cancel_from_another_thread_stops_a_decode_and_keeps_whole_batches(tiny):
    tokens = some_tokens(4000)
    with fresh(tiny, n_ctx=8192, n_batch=64) as c:
        c.cancel()  # nothing runs: no effect on the next call
        c.decode(tokens[:3])
        assert c.n_past == 3
        c.clear()
        done = threading.Event()

        def canceller():
            time.sleep(0.02)
            while not done.is_set():
                c.cancel()
                time.sleep(0.0005)

        t = threading.Thread(target=canceller)
        t.start()
        try:
            with pytest.raises(cwm.CancelledError):
                c.decode(tokens)
        finally:
            done.set()
            t.join()
        kept = c.n_past
        assert kept % 64 == 0 and kept < len(tokens)
        assert c.tokens == tokens[:kept]
        c.decode(tokens[kept: kept + 70])
        ref = reference_logits(tiny, tokens[:kept], tokens[kept: kept + 70], n_ctx=8192, n_batch=64)
        assert np.array_equal(c.logits(), ref)


def test_cancel_from_another_thread_stops_a_generation(tiny, ctx):
    prompt = some_tokens(4)
    gen = ctx.generate(prompt, 200, with_tokens=True)
    with pytest.raises(cwm.CancelledError):
        for i, _ in enumerate(gen):
            if i == 3:
                t = threading.Thread(target=ctx.cancel)
                t.start()
                t.join()
    assert len(gen.tokens) == 4
    assert ctx.n_past == len(prompt) + 3  # the fourth streamed token was not evaluated
    assert not generate_threads()

    ctx.clear()
    streamed = []

    def on_text(piece, token):
        streamed.append(token)
        if len(streamed) == 3:
            t = threading.Thread(target=ctx.cancel)
            t.start()
            t.join()

    with pytest.raises(cwm.CancelledError):
        ctx.stream(prompt, on_text, 50)
    assert len(streamed) == 3 and ctx.n_past == len(prompt) + 2


def test_a_restored_state_continues_bit_identically(tiny, tmp_path):
    tokens = some_tokens(26)
    prefix, suffix = tokens[:20], tokens[20:]  # window 6: the prefix has wrapped the rings
    expected = reference_logits(tiny, prefix, suffix)
    with fresh(tiny) as saver:
        saver.decode(prefix)
        state = saver.save_state()
        assert isinstance(state, bytes)
        saver.decode(suffix)
        assert np.array_equal(saver.logits(), expected)
        # Another n_ctx, n_batch and thread count, and a context that held something else.
        with cwm.Context(tiny, n_ctx=64, n_batch=7, n_threads=2) as restored:
            restored.decode(some_tokens(3))
            restored.load_state(state)
            assert restored.n_past == 20 and restored.tokens == prefix
            restored.decode(suffix)
            assert np.array_equal(restored.logits(), expected)
        # The saved logits row continues a generation without re-evaluating anything.
        with fresh(tiny) as from_state:
            from_state.load_state(bytearray(state))
            a = list(from_state.generate(None, 6, with_tokens=True))
        saver.load_state(memoryview(state))
        b = list(saver.generate(None, 6, with_tokens=True))
        assert a == b and len(a) == 6

        path = tmp_path / "state.bin"
        saver.load_state(state)
        saver.save_state_file(path)
        assert path.read_bytes() == saver.save_state()
        with fresh(tiny) as other:
            other.load_state_file(str(path))
            other.decode(suffix)
            saver.decode(suffix)
            assert np.array_equal(other.logits(), saver.logits())
        with pytest.raises(cwm.FileError) as e:
            saver.load_state_file("/nonexistent/state.bin")
        assert "/nonexistent/state.bin" in e.value.message
        with pytest.raises(cwm.FileError):
            saver.save_state_file("/nonexistent/dir/state.bin")


def test_damaged_and_oversized_states_are_refused_and_leave_the_context_unchanged(tiny):
    with fresh(tiny) as c:
        c.decode(some_tokens(10))
        state = c.save_state()
        before = c.tokens
        flipped = bytearray(state)
        flipped[len(flipped) // 2] ^= 0x10
        for bad, words in ((bytes(flipped), "checksum"), (state[:-100], "damaged"), (state[:5], "damaged"),
                           (b"X" + state[1:], "magic")):
            with pytest.raises(cwm.InvalidFileError) as e:
                c.load_state(bad)
            assert words in e.value.message
            assert c.tokens == before
        with pytest.raises(TypeError):
            c.load_state("not bytes")
        with fresh(tiny, n_ctx=8) as small:
            with pytest.raises(cwm.ContextFullError):
                small.load_state(state)
            assert small.n_past == 0


def test_truncate_within_the_slack_continues_exactly_and_further_is_refused(tiny):
    tokens = some_tokens(30)
    other = some_tokens(40)[30:35]
    with fresh(tiny, n_batch=8) as c:
        c.decode(tokens)
        assert c.max_rewind == 8 + 1
        c.truncate(25)
        assert c.n_past == 25
        with pytest.raises(cwm.InvalidArgumentError):
            c.logits()
        c.decode(other)
        assert np.array_equal(c.logits(), reference_logits(tiny, tokens[:25], other, n_batch=8))
        with pytest.raises(cwm.InvalidArgumentError) as e:
            c.truncate(10)
        assert "save and restore" in e.value.message
        with pytest.raises(cwm.InvalidArgumentError):
            c.truncate(31)
        assert c.n_past == 30
        c.clear()
        assert c.n_past == 0 and c.tokens == []


def test_sampler_parameters_and_seeded_reproducibility(tiny):
    s = cwm.Sampler(temperature=0.7, top_k=40, top_p=0.9, min_p=0.05, repeat_penalty=1.1, repeat_last_n=32, seed=7)
    assert s.params == cwm.SamplerParams(temperature=pytest.approx(0.7), top_k=40, top_p=pytest.approx(0.9),
                                         min_p=pytest.approx(0.05), repeat_penalty=pytest.approx(1.1),
                                         repeat_last_n=32, seed=7)
    s.close()
    with pytest.raises(cwm.ClosedError):
        s.accept(1)
    default = cwm.Sampler()
    assert default.params.top_k == 0 or default.params.top_k > 0  # the library's default kept
    with pytest.raises(TypeError):
        cwm.Sampler(top_k=1.5)
    with pytest.raises(TypeError):
        cwm.Sampler(0.5)  # keyword-only

    runs = []
    for _ in range(2):
        with cwm.Sampler(temperature=1.0, seed=1234) as sampler, fresh(tiny) as c:
            runs.append([t for _, t in c.generate(some_tokens(4), 16, sampler, with_tokens=True)])
    assert runs[0] == runs[1] and runs[0]  # (a sampled stop token may end it before 16)
    others = []
    for seed in (99, 100, 101):
        with cwm.Sampler(temperature=1.0, seed=seed) as sampler, fresh(tiny) as c:
            others.append([t for _, t in c.generate(some_tokens(4), 16, sampler, with_tokens=True)])
    assert any(o != runs[0] for o in others)

    with cwm.Sampler(temperature=0.0) as greedy, fresh(tiny) as c:
        c.decode(some_tokens(5))
        logits = c.logits()
        assert greedy.sample(logits) == int(np.argmax(logits))
        assert greedy.sample(logits.tolist()) == int(np.argmax(logits))
        greedy.accept(3)


def test_closed_context_and_sampler_raise_instead_of_crashing(tiny):
    c = fresh(tiny)
    c.decode([1, 2, 3])
    state = c.save_state()
    c.close()
    for use in (lambda: c.decode([1]), lambda: c.logits(), lambda: c.n_past, lambda: c.tokens,
                lambda: c.save_state(), lambda: c.load_state(state), lambda: c.truncate(0), lambda: c.clear(),
                lambda: c.generate(None, 3), lambda: c.stream(None, print, 3), lambda: c.max_rewind):
        with pytest.raises(cwm.ClosedError):
            use()
    c.cancel()  # no effect, no crash
    c.close()
    s = cwm.Sampler()
    s.close()
    with cwm.Context(tiny, n_ctx=32) as c2:
        with pytest.raises(cwm.ClosedError):
            list(c2.generate([1], 3, s))


def test_closing_inside_callbacks_and_loops_neither_deadlocks_nor_crashes(tiny):
    with fresh(tiny) as c:
        with pytest.raises(RuntimeError, match="cannot close"):
            c.stream(some_tokens(3), lambda piece, token: c.close(), 3)
        assert not c.closed and c.n_past >= 3
    c = fresh(tiny)
    gen = c.generate(some_tokens(3), 20, with_tokens=True)
    for i, _ in enumerate(gen):
        if i == 1:
            c.close()  # stops the generation, then frees the context
    assert c.closed and len(gen.tokens) == 2 and not generate_threads()
    with fresh(tiny) as c, cwm.Sampler(temperature=0.5, seed=3) as s:
        with pytest.raises(RuntimeError, match="cannot close"):
            for _ in c.generate(some_tokens(3), 5, s):
                s.close()
        s.close()  # after the loop: fine
        assert s.closed
