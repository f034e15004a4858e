"""Models, tokenizers and chat rendering. Oracles: the Llama-3 ids published with the tokenizer,
the tiny model's known layout (tests/make_test_models.sh), CWM's chat format (docs/chat.md)."""

import gc
import os

import pytest

import cwm
from conftest import some_tokens

HELLO = "Hello world, this is a test of the llama tokenizer."
HELLO_IDS = [9906, 1917, 11, 420, 374, 264, 1296, 315, 279, 94776, 47058, 13]


def test_info_describes_the_cwm_layout(tiny):
    info = tiny.info
    assert isinstance(info, cwm.ModelInfo)
    assert info.arch == "cwm"
    assert (info.n_layer, info.n_embd, info.n_ff, info.n_vocab) == (5, 96, 192, 600)
    assert info.n_head // info.n_head_kv == 6
    assert (info.window, info.n_local_layers) == (6, 3)
    assert [tiny.layer_is_local(i) for i in range(5)] == [False, True, True, True, False]
    with pytest.raises(cwm.InvalidArgumentError):
        tiny.layer_is_local(5)
    assert info.file_bytes == os.path.getsize(tiny.path)


def test_metadata_is_a_read_only_mapping(tiny):
    md = tiny.metadata
    keys = list(md)
    assert keys[0] == "general.architecture" and md["general.architecture"] == "cwm"
    assert md["cwm.block_count"] == "5"
    assert md["cwm.context_length"] == "131072"
    assert len(md) == len(keys) and "cwm.block_count" in md and "no.such.key" not in md
    with pytest.raises(KeyError):
        md["no.such.key"]
    with pytest.raises(cwm.NotFoundError, match="no.such.key"):
        md.get_value("no.such.key")
    full = md.get_value("tokenizer.ggml.tokens")
    short = md.get_value("tokenizer.ggml.tokens", max_items=3)
    assert len(short) < len(full)


def test_tensors(tiny):
    tensors = tiny.tensors()
    assert tensors[0] == cwm.TensorInfo("token_embd.weight", "f16", (96, 600), 0, 96 * 600 * 2)
    assert tensors[1].name == "blk.0.attn_norm.weight" and tensors[1].type == "f32" and tensors[1].shape == (96,)
    assert sum(t.n_bytes for t in tensors) == tiny.info.weight_bytes


def test_tokenize_round_trip_and_bad_utf8(tiny):
    text = "def f(x):\n    return x + 1\n"
    ids = tiny.tokenize(text)
    assert ids[0] == tiny.info.bos
    assert tiny.tokenize(text, add_bos=False) == ids[1:]
    assert tiny.detokenize(ids[1:]) == text
    assert b"".join(tiny.token_to_bytes(t) for t in ids[1:]) == text.encode()
    long_text = "x = 1\n" * 2000
    assert tiny.detokenize(tiny.tokenize(long_text, add_bos=False)) == long_text
    with pytest.raises(cwm.InvalidArgumentError) as e:
        tiny.tokenize(b"ok \xff\xfe")
    assert "UTF-8" in e.value.message
    with pytest.raises(cwm.InvalidArgumentError):
        tiny.tokenize("lone surrogate \udc80")
    with pytest.raises(cwm.InvalidArgumentError):
        tiny.detokenize([5, 100000])
    assert tiny.tokenize("a\0b", add_bos=False)  # lengths, not NUL-terminated: a NUL is text


def test_model_tokenizer_view_agrees_with_model_calls(tiny):
    tok = tiny.tokenizer
    assert tok.n_vocab == tiny.info.n_vocab and tok.bos == tiny.info.bos and tok.eos == tiny.info.eos
    assert tok.encode("def f(x): return x") == tiny.tokenize("def f(x): return x")
    frame = tok.find("<|frame_sep|>")
    assert tok.token_to_bytes(frame, render_special=True) == b"<|frame_sep|>"
    assert tok.token_to_bytes(frame) == b""
    assert tok.is_stop(tok.find("<|eot_id|>")) and tiny.is_stop(tok.find("<|eot_id|>"))
    assert not tok.is_stop(frame)
    with pytest.raises(cwm.NotFoundError) as e:
        tok.find("<|no_such_token|>")
    assert "<|no_such_token|>" in e.value.message
    tok.close()
    with pytest.raises(cwm.ClosedError):
        tok.n_vocab
    assert not tiny.closed  # closing the view leaves the model alone


def test_standalone_llama3_tokenizer_gives_the_published_ids(llama3_json):
    with cwm.Tokenizer(llama3_json) as tok:
        assert tok.n_vocab == 128256
        assert tok.encode(HELLO, add_bos=False) == HELLO_IDS
        assert tok.encode(HELLO)[1:] == HELLO_IDS and tok.encode(HELLO)[0] == 128000
        assert tok.encode("Okay", add_bos=False) == [33413]
        assert tok.find("<|eot_id|>") == 128009
        assert tok.find("<|begin_of_text|>") == 128000
        assert tok.decode(HELLO_IDS) == HELLO
        assert tok.decode(tok.encode(" Python", add_bos=False)) == " Python"
        # A multi-byte character split across tokens: bytes per token, whole text decoded.
        ids = tok.encode("日本語のテキスト", add_bos=False)
        assert b"".join(tok.token_to_bytes(t) for t in ids).decode() == "日本語のテキスト"
    with pytest.raises(cwm.ClosedError):
        tok.encode("x")
    with pytest.raises(cwm.FileError):
        cwm.Tokenizer("/nonexistent/tokenizer.json")


def test_chat_rendering(llama3_json):
    plain = cwm.render_chat([{"role": "user", "content": "Print 2+2."}])
    assert plain == ("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful AI "
                     "assistant.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nPrint 2+2.<|eot_id|>"
                     "<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert cwm.render_chat([("user", "Print 2+2.")]) == plain
    reasoning = cwm.render_chat([("user", "Print 2+2.")], reasoning=True)
    assert "You always reason before responding" in reasoning and reasoning.endswith("<think>\n")
    no_prompt = cwm.render_chat([("user", "Print 2+2.")], add_generation_prompt=False)
    assert plain.startswith(no_prompt) and no_prompt.endswith("<|eot_id|>")
    long = cwm.render_chat([("user", "y" * 5000)])  # past the first buffer guess
    assert "y" * 5000 in long

    with cwm.Tokenizer(llama3_json) as tok:
        ids = tok.encode(plain, add_bos=False, parse_special=True)
        assert ids[0] == 128000 and ids.count(128006) == 3 and ids.count(128009) == 2

    with pytest.raises(cwm.InvalidArgumentError) as e:
        cwm.render_chat([("wizard", "x")])
    assert "wizard" in e.value.message
    with pytest.raises(cwm.InvalidArgumentError):
        cwm.render_chat([("user", b"\xff")])
    with pytest.raises(cwm.InvalidArgumentError):
        cwm.render_chat([("user", "a\0b")])
    with pytest.raises(cwm.InvalidArgumentError):
        cwm.render_chat([{"role": "user"}])
    with pytest.raises(TypeError):
        cwm.render_chat([42])


def test_chat_template_of_a_file_without_one(tiny):
    assert tiny.chat_template == ""


def test_load_errors_name_the_problem(tmp_path, tiny_path):
    bad = tmp_path / "text.gguf"
    bad.write_bytes(b"this is not a model file at all")
    with pytest.raises(cwm.InvalidFileError) as e:
        cwm.Model(bad)
    assert "magic" in e.value.message and e.value.status == cwm.Status.INVALID_FILE
    whole = open(tiny_path, "rb").read()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(cwm.InvalidFileError):
        cwm.Model(cut)
    with pytest.raises(cwm.InvalidArgumentError):
        cwm.Model("a\0b")
    with pytest.raises(TypeError):
        cwm.Model(42)


def test_progress_reports_and_can_cancel(tiny_path):
    seen = []
    with cwm.Model(tiny_path, progress=seen.append):
        pass
    assert seen and seen[-1] == pytest.approx(1.0) and seen == sorted(seen)
    with pytest.raises(cwm.CancelledError) as e:
        cwm.Model(tiny_path, progress=lambda f: False)
    assert e.value.status == cwm.Status.CANCELLED


def test_a_raising_progress_callback_cancels_and_its_exception_is_raised(tiny_path):
    class Boom(Exception):
        pass

    calls = []

    def progress(f):
        calls.append(f)
        raise Boom("from progress")

    with pytest.raises(Boom) as e:
        cwm.Model(tiny_path, progress=progress)
    assert len(calls) == 1  # cancelled at the first call
    assert isinstance(e.value.__cause__, cwm.CancelledError)


def test_log_callback_reports_the_load_and_each_context(tiny_path):
    lines = []
    with cwm.Model(tiny_path, log=lambda level, text: lines.append((level, text))) as m:
        assert len(lines) >= 2
        assert lines[0][0] == cwm.LogLevel.INFO and "5 layers" in lines[0][1]
        assert "kernels:" in lines[1][1]
        with cwm.Context(m, n_ctx=64, n_threads=1):
            assert "context:" in lines[-1][1]


def test_a_raising_log_callback_is_re_raised(tiny_path):
    def log(level, text):
        raise RuntimeError("log failed: " + text)

    with pytest.raises(RuntimeError, match="log failed"):
        cwm.Model(tiny_path, log=log)

    fail = []
    def later(level, text):
        if fail:
            raise KeyError("context log")
    with cwm.Model(tiny_path, log=later) as m:
        fail.append(1)
        with pytest.raises(KeyError):
            cwm.Context(m, n_ctx=64)
        fail.clear()
        with cwm.Context(m, n_ctx=64) as c:
            assert c.n_ctx == 64


def test_closed_model_raises_and_its_contexts_keep_it_alive(tiny_path):
    m = cwm.Model(tiny_path)
    ctx = cwm.Context(m, n_ctx=64, n_threads=1)
    tok = m.tokenizer
    m.close()
    assert m.closed
    for use in (lambda: m.info, lambda: m.tokenize("x"), lambda: m.metadata, lambda: m.tensors(),
                lambda: cwm.Context(m), lambda: m.chat_template, lambda: m.tokenizer):
        with pytest.raises(cwm.ClosedError):
            use()
    # The context and the tokenizer view still work: the C model is freed after them.
    ctx.decode(some_tokens(5))
    assert ctx.n_past == 5 and "".join(ctx.generate(None, 3)) is not None
    assert tok.encode("def", add_bos=False)
    ctx.close()
    with pytest.raises(cwm.ClosedError):
        ctx.decode([1])
    with pytest.raises(cwm.ClosedError):
        ctx.n_past
    assert m._ptr  # the tokenizer view is still open
    tok.close()
    assert not m._ptr  # now freed
    ctx.close()
    m.close()  # idempotent
    gc.collect()


def test_context_manager_closes(tiny_path):
    with cwm.Model(tiny_path) as m:
        with cwm.Context(m, n_ctx=32) as c:
            pass
        assert c.closed
        with pytest.raises(cwm.ClosedError):
            c.logits()
    assert m.closed and not m._ptr


# ---- attention layout: a community llama file of CWM (tiny-llama: tiny-cwm's tensors) --------


def layout_of(model):
    return "".join("L" if model.layer_is_local(i) else "G" for i in range(model.info.n_layer))


def last_logits(model, n):
    with cwm.Context(model, n_ctx=64, n_threads=1) as c:
        c.decode(some_tokens(n))
        return list(c.logits())


def test_attention_cwm_gives_a_llama_file_cwms_layout(models_dir, tiny):
    llama = os.path.join(models_dir, "tiny-llama.gguf")
    lines = []
    with cwm.Model(llama) as plain, \
            cwm.Model(llama, attention="cwm", sliding_window=6, log=lambda _l, t: lines.append(t)) as m:
        assert layout_of(plain) == "GGGGG" and plain.info.window == 0
        assert layout_of(m) == "GLLLG" and m.info.n_local_layers == 3 and m.info.window == 6
        assert m.info.arch == "llama" and m.metadata["general.architecture"] == "llama"
        assert any(t.startswith("attention layout: cwm pattern applied by the caller (file says llama") for t in lines)
        # tiny-cwm is the same checkpoint with window 6 and CWM's rule: the same logits, exactly.
        assert last_logits(m, 20) == last_logits(tiny, 20) != last_logits(plain, 20)
    with cwm.Model(llama, attention=cwm.AttentionLayout.CWM) as m:
        assert m.info.window == 8192
    with cwm.Model(os.path.join(models_dir, "tiny-cwm.gguf"), attention="global") as m:
        assert layout_of(m) == "GGGGG"


def test_bad_attention_arguments_are_refused(models_dir):
    llama = os.path.join(models_dir, "tiny-llama.gguf")
    with pytest.raises(cwm.InvalidArgumentError, match="unknown attention layout"):
        cwm.Model(llama, attention="sliding")
    with pytest.raises(cwm.InvalidArgumentError, match="CWM_ATTENTION_FROM_FILE"):
        cwm.Model(llama, attention=7)  # refused by C
    with pytest.raises(cwm.InvalidArgumentError, match="only be given with the cwm"):
        cwm.Model(llama, sliding_window=6)
    with pytest.raises(cwm.InvalidArgumentError, match="32 bits"):
        cwm.Model(llama, attention="cwm", sliding_window=2 ** 32)
    with pytest.raises(TypeError):
        cwm.Model(llama, attention=None)
