"""scripts/train_tiny.py's resume contract (docs/tiny-model.md): a run stopped at a checkpoint
and continued later ends with exactly the weights and optimizer state of one uninterrupted
run, since the 2-hour budget of the shipped model is spent in several sittings."""

import os
import subprocess
import sys

import pytest
import torch

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
SCRIPTS = os.path.join(ROOT, "scripts")
MODEL = os.path.join(ROOT, "models", "cwm-tiny-q8_0.gguf")
sys.path.insert(0, SCRIPTS)
import gguf_io  # noqa: E402


@pytest.fixture(scope="module")
def corpus_and_tokenizer(tmp_path_factory):
    """Eight traced generated programs, and the shipped model's own SentencePiece model."""
    work = tmp_path_factory.mktemp("train")
    corpus = work / "corpus.jsonl"
    subprocess.run([sys.executable, os.path.join(SCRIPTS, "make_corpus.py"), "--seeds", "3",
                    "--per-seed", "8", "--out", str(corpus)], check=True, capture_output=True)
    assert len(corpus.read_text().splitlines()) >= 6
    tokenizer = work / "tiny.model"
    serialized = gguf_io.read_gguf(MODEL).kv["tokenizer.sentencepiece.model"].data
    tokenizer.write_bytes(bytes(serialized))
    return corpus, tokenizer


def train(corpus, tokenizer, out_dir, *extra):
    """Four steps of two examples, one thread (so the sums are done in one order)."""
    cmd = [sys.executable, os.path.join(SCRIPTS, "train_tiny.py"), "--corpus", str(corpus),
           "--tokenizer", str(tokenizer), "--out-dir", str(out_dir), "--steps", "4", "--batch", "2",
           "--micro", "1", "--warmup", "1", "--threads", "1", "--steered-share", "0.5", *extra]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stderr


def checkpoint(out_dir):
    return torch.load(os.path.join(out_dir, "checkpoint.pt"))


def test_two_sittings_equal_one_run(corpus_and_tokenizer, tmp_path):
    corpus, tokenizer = corpus_and_tokenizer
    train(corpus, tokenizer, tmp_path / "one")
    first = train(corpus, tokenizer, tmp_path / "two", "--until-step", "2")
    assert "at step 2/4" in first
    halfway = checkpoint(tmp_path / "two")
    second = train(corpus, tokenizer, tmp_path / "two")
    assert "resuming at step 2" in second and "at step 4/4" in second

    one, two = checkpoint(tmp_path / "one"), checkpoint(tmp_path / "two")
    assert one["step"] == two["step"] == 4 and halfway["step"] == 2
    for name, weight in one["params"].items():
        assert torch.equal(weight, two["params"][name]), name
    moved = [name for name, w in halfway["params"].items() if not torch.equal(w, one["params"][name])]
    assert len(moved) == len(halfway["params"]), "steps 3-4 changed every tensor"
    for key, state in one["opt"]["state"].items():
        assert torch.equal(state["exp_avg_sq"], two["opt"]["state"][key]["exp_avg_sq"])
