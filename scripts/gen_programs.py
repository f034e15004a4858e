#!/usr/bin/env python3
"""Deterministic generator of small Python programs for training a tiny code world model on
execution traces (make_corpus.py traces them with cwm.tracer).

Program `index` of seed `seed` depends only on random.Random(f"{seed}:{index}") (never on the
global random state, hash() or the interpreter), so it is the same on every run and machine:

    gen_programs.py --seed S --count N --out DIR    # DIR/prog_{S}_{i:05d}.py
    gen_programs.py --describe                      # the families and their shares
    from gen_programs import generate               # generate(seed, index) -> source

Every program is one or more small functions; the entry function's def line ends with
"  # << START_OF_TRACE" and the only other module-level statement is one call of the entry with
literal arguments, e.g. `f(3)`. Values are kept small (ints mostly < 1000, short strings and
lists) because each statement is run while it is generated (see Sim) and rejected if it fails
or grows a value too much. Nothing here traces: the frame/length caps are applied by
make_corpus.py, and the generator is tuned so that few programs exceed them.

Families (approximate share of programs):
    arith       10%  integer arithmetic: + - * // % and augmented assignment
    branch      10%  comparisons, and/or/not, if/elif/else, nested ifs
    for         10%  for over range(...) and over lists, nested loops, enumerate, break/continue
    while        8%  while loops with counters: digits, halving, collatz, while True + break
    string      10%  str methods (upper lower replace split join count find), slices, len,
                     f-strings, concatenation, loops over characters
    list        10%  append pop insert extend remove index, indexing, slicing, sum len sorted
    dict         8%  get setdefault items keys values update pop, counting, inverting
    tuple        6%  packing/unpacking, swap, divmod, zip, star-unpacking, tuple returns
    calls        8%  entry calling helpers, helpers calling helpers, default arguments
    recursion    8%  factorial fibonacci digit-sum gcd power list-sum reverse binary (depth <= 8)
    exception   12%  try/except ValueError ZeroDivisionError KeyError IndexError, else/finally,
                     raise in a helper caught by the caller, exceptions escaping the entry
With --extended (gen_extended.py) one more family, and the Sim families above may also use
floats from /, **, abs min max round, conditional expressions, chained comparisons, ord chr,
more str methods, filtering comprehensions, sets and del:
    scan        14%  one loop over a list or a text (for, for over a slice / sorted / reversed,
                     index loops, enumerate, split) updating one to three accumulators (sums,
                     counts, best, lists, dicts, strings) under conditions, early break/continue
With --bank-share S a share S of the programs instead come from the bank (gen_bank.py): small
functions written by hand (scripts/program_bank/) called with arguments drawn per program:
    bank         S   a bank function, uniformly chosen, with fresh arguments

Files: gen_blocks.py (name pools, random choices, the statement simulator; it exec()s only
lines this generator wrote), gen_families.py (one builder per family), gen_rename.py (the
renaming pass: fresh identifiers and words for a share of the programs, --rename-share),
gen_bank.py (the bank family, --bank-share), this file (registry, API, command line).

Seeds: training uses seeds 1..999; held-out evaluation uses seeds >= 100000 (never trained on).
"""

import argparse
import functools
import os
import random
import sys

import gen_bank
import gen_extended as ext
import gen_families as fam
import gen_rename
from gen_blocks import G

MARKER = "  # << START_OF_TRACE"
TRAIN_SEEDS = range(1, 1000)      # training corpora
HELDOUT_MIN_SEED = 100_000        # held-out evaluation: seeds >= this, never in training


def assemble(g, funcs, entry, args):
    """Join the defs (the entry's def line gets the marker) and the call of the entry."""
    helpers = [f for f in funcs if f[0] != entry]
    main = [f for f in funcs if f[0] == entry]
    order = helpers + main if g.chance(0.8) else main + helpers
    chunks = []
    for name, lines in order:
        if name == entry:
            lines = [lines[0] + MARKER] + lines[1:]
        chunks.append("\n".join(lines) + "\n")
    call = f"{entry}({', '.join(repr(a) for a in args)})\n"
    return "\n".join(chunks) + "\n" + call


FAMILIES = [  # (name, weight: percent of programs, builder)
    ("arith", 10, fam.fam_arith), ("branch", 10, fam.fam_branch), ("for", 10, fam.fam_for),
    ("while", 8, fam.fam_while), ("string", 10, fam.fam_string), ("list", 10, fam.fam_list),
    ("dict", 8, fam.fam_dict), ("tuple", 6, fam.fam_tuple), ("calls", 8, fam.fam_calls),
    ("recursion", 8, fam.fam_recursion), ("exception", 12, fam.fam_exception),
]
EXTENDED_FAMILIES = [("scan", 16, ext.fam_scan)]  # only with extended=True


def generate_with_family(seed, index, rename_share=0.0, extended=False, bank_share=0.0):
    """(family, source) of program `index` of `seed`; depends on nothing else. A share
    `rename_share` of the programs get fresh identifiers and words (gen_rename.py); `extended`
    adds gen_extended.py's statements and family; a share `bank_share` of the programs are
    hand-written ones from the bank with fresh arguments (gen_bank.py)."""
    banker = random.Random(f"{seed}:{index}:bank")
    if bank_share > 0 and banker.random() < bank_share:
        family, source = "bank", gen_bank.fam_bank(banker, bank_entries())
    else:
        family, source = built_program(random.Random(f"{seed}:{index}"), extended)
    renamer = random.Random(f"{seed}:{index}:rename")
    if renamer.random() < rename_share:
        source = gen_rename.rename(renamer, source)
    return family, source


def built_program(rng, extended):
    """(family, source) from the template families, drawing every choice from `rng`."""
    families = FAMILIES + (EXTENDED_FAMILIES if extended else [])
    fam = rng.choices(range(len(families)), weights=[f[1] for f in families])[0]
    g = G(rng, extended)
    funcs, entry, args = families[fam][2](g)
    return families[fam][0], assemble(g, funcs, entry, args)


@functools.cache
def bank_entries():
    return gen_bank.load(gen_bank.BANK_DIR)


def generate(seed, index, rename_share=0.0, extended=False, bank_share=0.0):
    """The source of program `index` of `seed`."""
    return generate_with_family(seed, index, rename_share, extended, bank_share)[1]


def share(text):
    """argparse type of --rename-share and --bank-share: a number from 0 to 1."""
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def describe():
    """The families and their shares of programs, without and with --extended."""
    every = FAMILIES + EXTENDED_FAMILIES
    plain_total, every_total = sum(f[1] for f in FAMILIES), sum(f[1] for f in every)
    lines = ["family     share  extended  builder"]
    for i, (name, w, fn) in enumerate(every):
        plain = f"{100 * w / plain_total:4.0f}%" if i < len(FAMILIES) else "    -"
        lines.append(f"{name:<10} {plain}  {100 * w / every_total:6.0f}%  {fn.__name__}")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--out", help="directory for prog_{seed}_{index:05d}.py")
    p.add_argument("--describe", action="store_true", help="list the families and their shares")
    p.add_argument("--rename-share", type=share, default=0.0,
                   help="share of programs given fresh identifiers and words (gen_rename.py)")
    p.add_argument("--extended", action="store_true",
                   help="also gen_extended.py's statements and scan family")
    p.add_argument("--bank-share", type=share, default=0.0,
                   help="share of programs taken from the bank of hand-written ones (gen_bank.py)")
    a = p.parse_args(argv)
    if a.describe:
        print(describe())
        return 0
    if not a.out:
        p.error("--out DIR is required (or --describe)")
    os.makedirs(a.out, exist_ok=True)
    for i in range(a.count):
        with open(os.path.join(a.out, f"prog_{a.seed}_{i:05d}.py"), "w") as fh:
            fh.write(generate(a.seed, i, a.rename_share, a.extended, a.bank_share))
    print(f"wrote {a.count} programs to {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
