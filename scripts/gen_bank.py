"""The `bank` family of gen_programs.py (--bank): programs written by hand, called with fresh
arguments.

The other families build programs statement by statement from templates, so every program
they write has their shape. The bank holds small functions written the way people write them
(scripts/program_bank/*.py, written for this purpose without looking at the evaluation
programs in examples/), each with a description of its arguments; a bank program is one of
them called with arguments drawn from that description. With --rename-share the renaming pass
then gives it fresh names and words like any other program.

A bank file is data, read with ast.literal_eval (never imported or executed here):

    PROGRAMS = [
        {"source": '''
    def rotate_right(items, steps):  # << START_OF_TRACE
        ...
    ''', "args": ["ints 1 5 0 99", "int 0 9"]},
    ]

The entry function's def line carries the marker; "args" has one spec per parameter:

    int LO HI               an int in [LO, HI]
    float LO HI             a float in [LO, HI] with one decimal
    ints N M LO HI          a list of N..M ints in [LO, HI]   (floats N M LO HI: of floats)
    word                    a lowercase word
    words N M               a list of N..M words
    text N M                N..M words joined by spaces
    chars N M ALPHABET      N..M characters drawn from ALPHABET
    counts N M LO HI        a dict of N..M words to ints in [LO, HI]
    bool                    True or False
    choice A | B | ...      one of the Python literals A, B, ...

`python3 scripts/gen_bank.py --check` traces every bank program with several argument draws
and reports those that fail or run too long.
"""

import argparse
import ast
import glob
import os
import random
import sys

from gen_rename import NOUNS

BANK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "program_bank")
MARKER = "# << START_OF_TRACE"


class BankError(ValueError):
    """A bank entry that cannot be used: names the file, the entry and what is wrong."""


def load(directory=BANK_DIR):
    """[(where, source, args)] of every bank file in `directory`, in a fixed order."""
    entries = []
    for path in sorted(glob.glob(os.path.join(directory, "*.py"))):
        for i, item in enumerate(_programs_of(path)):
            where = f"{os.path.basename(path)}[{i}]"
            if not isinstance(item, dict) or set(item) != {"source", "args"}:
                raise BankError(f"{where}: an entry is a dict with 'source' and 'args'")
            source = item["source"].strip("\n") + "\n"
            entry_name(source, where)
            for spec in item["args"]:
                _check_spec(spec, where)
            entries.append((where, source, list(item["args"])))
    return entries


def _programs_of(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["PROGRAMS"]:
            return ast.literal_eval(node.value)
    raise BankError(f"{path}: no PROGRAMS = [...] list")


def entry_name(source, where="bank entry"):
    """The name of the function whose def line carries the marker (exactly one must)."""
    marked = [line for line in source.splitlines() if line.startswith("def ") and line.endswith(MARKER)]
    if len(marked) != 1:
        raise BankError(f"{where}: exactly one top-level def line must end with '{MARKER}'")
    return marked[0][4:marked[0].index("(")]


SPEC_ARITY = {"int": 2, "float": 2, "ints": 4, "floats": 4, "word": 0, "words": 2, "text": 2,
              "chars": 3, "counts": 4, "bool": 0}


def _check_spec(spec, where):
    kind, *rest = spec.split(" ", 1)
    if kind == "choice":
        try:
            [ast.literal_eval(option.strip()) for option in rest[0].split("|")]
        except (IndexError, ValueError, SyntaxError):
            raise BankError(f"{where}: '{spec}': choice takes Python literals separated by |") from None
        return
    fields = spec.split()[1:]
    if kind not in SPEC_ARITY or len(fields) != SPEC_ARITY[kind]:
        raise BankError(f"{where}: unknown argument spec '{spec}'")
    numeric = fields[:2] if kind == "chars" else fields
    try:
        [float(f) for f in numeric]
    except ValueError:
        raise BankError(f"{where}: '{spec}': bounds must be numbers") from None


def sample(r, spec):
    """One argument value for `spec`, drawn from random.Random `r`."""
    kind, *fields = spec.split()
    if kind == "choice":
        return ast.literal_eval(r.choice(spec.split(" ", 1)[1].split("|")).strip())
    if kind == "chars":
        return "".join(r.choice(fields[2]) for _ in range(r.randint(int(fields[0]), int(fields[1]))))
    if kind in ("word", "bool"):
        return r.choice(NOUNS) if kind == "word" else r.random() < 0.5
    n = [float(f) for f in fields]
    length = r.randint(int(n[0]), int(n[1])) if kind in ("ints", "floats", "words", "text", "counts") else 1
    if kind == "int":
        return r.randint(int(n[0]), int(n[1]))
    if kind == "float":
        return round(r.uniform(n[0], n[1]), 1)
    if kind == "ints":
        return [r.randint(int(n[2]), int(n[3])) for _ in range(length)]
    if kind == "floats":
        return [round(r.uniform(n[2], n[3]), 1) for _ in range(length)]
    words = r.sample(NOUNS, length)
    if kind == "words":
        return words
    if kind == "text":
        return " ".join(words)
    return {w: r.randint(int(n[2]), int(n[3])) for w in words}  # counts


def program(r, entry):
    """The source of bank entry (where, source, args) called with arguments drawn from `r`."""
    _, source, specs = entry
    args = ", ".join(repr(sample(r, spec)) for spec in specs)
    return f"{source}\n{entry_name(source)}({args})\n"


def fam_bank(r, entries):
    """gen_programs' bank family: a uniformly chosen entry with fresh arguments."""
    return program(r, r.choice(entries))


def check(entries, samples, max_frames, max_chars):
    """Trace every entry with `samples` draws; returns the report lines of the failing ones."""
    sys.path.insert(0, os.path.join(os.path.dirname(BANK_DIR), "..", "bindings", "python"))
    from cwm import tracer
    bad = []
    for entry in entries:
        r = random.Random(f"check:{entry[0]}")
        problems = set()
        for _ in range(samples):
            result = tracer.trace_program(program(r, entry), limits=tracer.Limits(steps=max_frames + 1))
            if result.status != "ok" or not result.complete:
                problems.add(f"{result.status}: {result.message}")
            elif len(result.frames) > max_frames or len(result.text) > max_chars:
                problems.add(f"too long: {len(result.frames)} frames, {len(result.text)} characters")
        bad += [f"{entry[0]}: {p}" for p in sorted(problems)]
    return bad


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="trace every bank program and report failures")
    p.add_argument("--dir", default=BANK_DIR, help="bank directory")
    p.add_argument("--samples", type=int, default=8, help="argument draws per program with --check")
    p.add_argument("--max-frames", type=int, default=120)
    p.add_argument("--max-chars", type=int, default=3000)
    a = p.parse_args(argv)
    try:
        entries = load(a.dir)
    except (BankError, SyntaxError, ValueError) as e:
        print(f"gen_bank: error: {e}", file=sys.stderr)
        return 2
    print(f"gen_bank: {len(entries)} programs in {a.dir}", file=sys.stderr)
    if a.check:
        bad = check(entries, a.samples, a.max_frames, a.max_chars)
        print("\n".join(bad) or "all programs trace", file=sys.stderr)
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
