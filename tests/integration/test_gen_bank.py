"""scripts/gen_bank.py, the bank family of gen_programs.py: argument specs draw what they say,
malformed bank files are refused with the file, entry and fault named, every program of the
shipped bank traces through the ground-truth tracer, and --bank-share mixes bank programs into
the generator's output without changing the other programs. Standard library only."""
import random
import sys

import pytest

from test_gen_programs import ROOT, SCRIPTS, check_shape  # noqa: F401 (sets sys.path)
from cwm import tracer  # noqa: E402
import gen_bank  # noqa: E402
import gen_programs  # noqa: E402

BANK = gen_bank.load()


def write_bank(tmp_path, body):
    (tmp_path / "b.py").write_text(f"PROGRAMS = [{body}]\n")
    return str(tmp_path)


@pytest.mark.parametrize("spec, ok", [
    ("int 3 7", lambda v: type(v) is int and 3 <= v <= 7),
    ("float -2 2", lambda v: type(v) is float and -2 <= v <= 2 and round(v, 1) == v),
    ("ints 2 4 0 9", lambda v: 2 <= len(v) <= 4 and all(type(x) is int and 0 <= x <= 9 for x in v)),
    ("floats 1 3 0 1", lambda v: 1 <= len(v) <= 3 and all(type(x) is float and 0 <= x <= 1 for x in v)),
    ("word", lambda v: v.isalpha() and v.islower()),
    ("words 2 3", lambda v: 2 <= len(v) <= 3 and len(set(v)) == len(v) and all(w.isalpha() for w in v)),
    ("text 1 4", lambda v: 1 <= len(v.split(" ")) <= 4 and all(w.isalpha() for w in v.split(" "))),
    ("chars 3 5 ab-", lambda v: 3 <= len(v) <= 5 and set(v) <= set("ab-")),
    ("counts 1 2 5 6", lambda v: 1 <= len(v) <= 2 and all(5 <= n <= 6 for n in v.values())),
    ("bool", lambda v: type(v) is bool),
    ("choice 'x' | (1, 2) | None", lambda v: v in ("x", (1, 2), None)),
])
def test_specs_draw_what_they_say(spec, ok):
    gen_bank._check_spec(spec, "test")
    r = random.Random(5)
    values = [gen_bank.sample(r, spec) for _ in range(200)]
    assert all(ok(v) for v in values), spec
    assert len({repr(v) for v in values}) > 1  # it draws, not a constant


@pytest.mark.parametrize("body, fault", [
    ("{'source': 'def f(x):\\n    return x\\n', 'args': ['int 1 2']}", "START_OF_TRACE"),
    ("{'source': 'def f(x):  # << START_OF_TRACE\\n    return x\\n', 'args': ['integer 1 2']}", "unknown argument spec 'integer 1 2'"),
    ("{'source': 'def f(x):  # << START_OF_TRACE\\n    return x\\n', 'args': ['int 1']}", "unknown argument spec 'int 1'"),
    ("{'source': 'def f(x):  # << START_OF_TRACE\\n    return x\\n', 'args': ['int a b']}", "bounds must be numbers"),
    ("{'source': 'def f(x):  # << START_OF_TRACE\\n    return x\\n', 'args': ['choice open(1)']}", "Python literals"),
    ("{'source': 'def f(x):  # << START_OF_TRACE\\n    return x\\n'}", "'source' and 'args'"),
])
def test_malformed_bank_entries_are_refused_by_name(tmp_path, body, fault):
    with pytest.raises(gen_bank.BankError) as e:
        gen_bank.load(write_bank(tmp_path, body))
    assert "b.py[0]" in str(e.value) and fault in str(e.value)


def test_bank_files_are_read_as_data_never_run(tmp_path, capsys):
    ran = tmp_path / "ran"
    (tmp_path / "b.py").write_text(f"open({str(ran)!r}, 'w')\nPROGRAMS = [__import__('os').getpid()]\n")
    assert gen_bank.main(["--dir", str(tmp_path)]) == 2
    assert "gen_bank: error:" in capsys.readouterr().err
    assert not ran.exists()


def test_the_bank_is_large_and_every_program_traces():
    """Each shipped bank program, with two argument draws, traces complete within the corpus caps."""
    assert len(BANK) >= 150
    assert gen_bank.check(BANK, samples=2, max_frames=120, max_chars=3000) == []


def test_bank_share_mixes_bank_programs_in_and_leaves_the_others_alone():
    sources = {entry[1] for entry in BANK}
    mixed = [gen_programs.generate_with_family(7, i, bank_share=0.4) for i in range(200)]
    plain = [gen_programs.generate(7, i) for i in range(200)]
    banked = [i for i, (family, _) in enumerate(mixed) if family == "bank"]
    assert 50 <= len(banked) <= 110  # 40% of 200, within chance
    for i, (family, source) in enumerate(mixed):
        check_shape(source)
        if family == "bank":
            body, call = source.rsplit("\n\n", 1)
            assert body + "\n" in sources and call.startswith(gen_bank.entry_name(body + "\n") + "(")
        else:
            assert source == plain[i]
    again = [gen_programs.generate_with_family(7, i, bank_share=0.4) for i in range(200)]
    assert again == mixed


def test_renamed_bank_programs_trace():
    for i in range(40):
        source = gen_programs.generate(11, i, rename_share=1.0, bank_share=1.0)
        check_shape(source)
        result = tracer.trace_program(source, limits=tracer.Limits(steps=121))
        assert result.status == "ok" and result.complete, (source, result.message)


def test_bank_share_outside_0_to_1_is_refused(capsys):
    with pytest.raises(SystemExit):
        gen_programs.main(["--out", "/nonexistent-dir", "--bank-share", "1.5"])
    assert "--bank-share" in capsys.readouterr().err


def test_make_corpus_refuses_a_broken_bank_before_generating(tmp_path, monkeypatch, capsys):
    import make_corpus
    (tmp_path / "b.py").write_text("PROGRAMS = [{'source': 'def f(x):\\n    return x\\n', 'args': []}]\n")
    monkeypatch.setattr(gen_bank, "BANK_DIR", str(tmp_path))
    gen_programs.bank_entries.cache_clear()
    out = tmp_path / "corpus.jsonl"
    try:
        with pytest.raises(SystemExit) as e:
            make_corpus.main(["--seeds", "1", "--per-seed", "3", "--out", str(out), "--bank-share", "0.5"])
    finally:
        gen_programs.bank_entries.cache_clear()
    assert "program bank" in str(e.value) and "b.py[0]" in str(e.value)
    assert not out.exists()
