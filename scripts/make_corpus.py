#!/usr/bin/env python3
"""Trace generated programs (gen_programs.py) with the ground-truth tracer into a corpus.

Seeds: TRAINING uses seeds 1..999. HELD-OUT EVALUATION uses seeds >= 100000, which are never
used in training. The two ranges are enforced: a run takes seeds of one range only, and
held-out seeds need --heldout (or --dir, which is for evaluation sets).

    make_corpus.py --seeds 1,2,3 --per-seed N --out FILE.jsonl [--jobs 2]
    make_corpus.py --heldout --seeds 100000 --per-seed N --out heldout.jsonl
    make_corpus.py --dir DIR [--seeds 100000] --per-seed N      # DIR/NAME.py for `cwm verify DIR`
    ... --rename-share 0.8 --extended   # 80% with fresh names and words (gen_rename.py); the
                                        # statements and family of gen_extended.py
    ... --bank-share 0.3                # 30% hand-written bank programs (gen_bank.py)

JSONL mode writes one object per kept program, in (seed, index) order whatever --jobs is:
    {"seed", "index", "source", "prompt", "trace", "family", "frames"}
`prompt` is the tracer's prompt and `trace` its trace text; the training text is
prompt + trace. `family` and `frames` are there for statistics.

A program is kept when its trace has status "ok", is complete, has at most --max-frames frames
(120) and at most --max-chars characters of trace text (3000); the others are counted and
dropped (not regenerated, so that index i always means the same program). Seeds may be given
as ranges: 1-999.
"""

import argparse
import collections
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "bindings", "python"))
from cwm import tracer  # noqa: E402
import gen_bank  # noqa: E402
import gen_programs  # noqa: E402
from gen_programs import HELDOUT_MIN_SEED, TRAIN_SEEDS  # noqa: E402


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        seeds.extend(range(int(lo), int(hi) + 1) if hi else [int(lo)])
    return seeds


def check_seeds(seeds, heldout):
    """Keep training and evaluation apart: every seed must be in the range the run is for."""
    if heldout:
        bad = [s for s in seeds if s < HELDOUT_MIN_SEED]
        what = f"held-out seeds must be >= {HELDOUT_MIN_SEED}"
    else:
        bad = [s for s in seeds if s not in TRAIN_SEEDS]
        what = (f"training seeds must be in {TRAIN_SEEDS.start}..{TRAIN_SEEDS.stop - 1} "
                f"(held-out seeds need --heldout)")
    if bad:
        raise SystemExit(f"make_corpus: error: {what}; got {bad[:5]}")


def limits(max_frames):
    # The step budget is cut to just above the frame cap: a program that would be dropped
    # anyway stops early instead of running to 10 000 frames. The wall/CPU budgets are lowered
    # for the same reason (the programs take milliseconds). The sandbox layers stay on: they
    # cost little here (measured: ~0.03 s per program with or without namespaces).
    return tracer.Limits(steps=max_frames + 1, wall_seconds=5.0, cpu_seconds=5)


def trace_one(task, lim, max_frames, max_chars, variety):
    """Generate and trace one program; returns (record or None, reason)."""
    seed, index = task
    try:
        family, source = gen_programs.generate_with_family(seed, index, *variety)
    except Exception as e:  # a generator bug: counted and reported, the corpus goes on
        return None, f"generator_error {type(e).__name__}", "?"
    try:
        r = tracer.trace_program(source, limits=lim)
    except tracer.TraceError as e:
        return None, f"trace_error: {e}", family
    if r.status != "ok" or not r.complete:
        return None, r.status if r.status != "ok" else "incomplete", family
    if len(r.frames) > max_frames:
        return None, "too_many_frames", family
    if len(r.text) > max_chars:
        return None, "too_long", family
    rec = {"seed": seed, "index": index, "source": source, "prompt": r.prompt, "trace": r.text,
           "family": family, "frames": len(r.frames)}
    return rec, "ok", family


class Progress:
    """A line on stderr every few seconds: done/total, kept, rate, ETA."""

    def __init__(self, total, every=3.0):
        self.total, self.every = total, every
        self.start = self.last = time.monotonic()
        self.done = self.kept = 0

    def update(self, kept):
        self.done += 1
        self.kept += kept
        now = time.monotonic()
        if now - self.last >= self.every or self.done == self.total:
            self.last = now
            rate = self.done / max(now - self.start, 1e-9)
            eta = (self.total - self.done) / rate if rate else 0
            print(f"[{self.done}/{self.total}] kept {self.kept}  {rate:.1f} prog/s  "
                  f"ETA {eta:.0f}s", file=sys.stderr, flush=True)


def run(tasks, jobs, lim, max_frames, max_chars, variety, sink):
    """Trace `tasks` (with `jobs` threads, each call spawning its own child) and hand every
    result to `sink` in task order. Returns the drop reasons and the elapsed seconds."""
    reasons = collections.Counter()
    progress = Progress(len(tasks))
    chunk = max(16, 8 * jobs)  # bounded look-ahead: futures for a whole corpus would pile up
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for start in range(0, len(tasks), chunk):
            batch = tasks[start:start + chunk]
            for rec, reason, family in pool.map(
                    lambda t: trace_one(t, lim, max_frames, max_chars, variety), batch):
                reasons[reason] += 1
                if not rec:
                    reasons["family:" + family] += 1
                if rec:
                    sink(rec)
                progress.update(rec is not None)
    return reasons, time.monotonic() - t0


def summary(records, reasons, seconds, n):
    """Statistics of a run, for stderr."""
    out = [f"programs {n}, kept {len(records)} ({100 * len(records) / max(n, 1):.1f}%), "
           f"{seconds / max(n, 1):.3f} s per program ({seconds:.1f} s)"]
    dropped = {k: v for k, v in reasons.items() if k != "ok" and not k.startswith("family:")}
    by_family = {k[7:]: v for k, v in reasons.items() if k.startswith("family:")}
    if dropped:
        out.append("dropped: " + ", ".join(f"{k} {v}" for k, v in sorted(dropped.items())))
        out.append("dropped by family: " + ", ".join(f"{k} {v}" for k, v in
                                                     sorted(by_family.items())))
    if records:
        chars = [len(r["trace"]) for r in records]
        frames = [r["frames"] for r in records]
        out.append(f"trace chars: mean {statistics.mean(chars):.0f}, median "
                   f"{statistics.median(chars):.0f}, max {max(chars)}; frames: mean "
                   f"{statistics.mean(frames):.1f}, median {statistics.median(frames):.0f}, "
                   f"max {max(frames)}")
        fams = collections.Counter(r["family"] for r in records)
        out.append("families: " + ", ".join(
            f"{k} {v} ({100 * v / len(records):.0f}%)" for k, v in fams.most_common()))
    return "\n".join(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", help="comma-separated seeds or ranges (1,2,5-9); default 1, or "
                                   f"{HELDOUT_MIN_SEED} with --dir / --heldout")
    p.add_argument("--per-seed", type=int, default=100, help="programs per seed")
    p.add_argument("--out", help="JSONL output file")
    p.add_argument("--dir", help="write kept programs as DIR/NAME.py (held-out seeds only)")
    p.add_argument("--heldout", action="store_true", help="held-out seeds (>= 100000)")
    p.add_argument("--jobs", type=int, default=1, help="programs traced concurrently")
    p.add_argument("--max-frames", type=int, default=120)
    p.add_argument("--max-chars", type=int, default=3000)
    p.add_argument("--rename-share", type=gen_programs.share, default=0.0,
                   help="share of programs given fresh identifiers and words (gen_rename.py)")
    p.add_argument("--extended", action="store_true",
                   help="also gen_extended.py's statements and scan family")
    p.add_argument("--bank-share", type=gen_programs.share, default=0.0,
                   help="share of programs taken from the bank of hand-written ones (gen_bank.py)")
    a = p.parse_args(argv)
    if bool(a.out) == bool(a.dir):
        p.error("give exactly one of --out FILE.jsonl or --dir DIR")
    heldout = a.heldout or bool(a.dir)
    seeds = parse_seeds(a.seeds) if a.seeds else [HELDOUT_MIN_SEED if heldout else 1]
    check_seeds(seeds, heldout)

    tasks = [(s, i) for s in seeds for i in range(a.per_seed)]
    variety = (a.rename_share, a.extended, a.bank_share)  # generate_with_family's options
    if a.bank_share > 0:  # a broken bank stops here, not as one dropped program per draw
        try:
            gen_programs.bank_entries()
        except (gen_bank.BankError, SyntaxError, ValueError) as e:
            raise SystemExit(f"make_corpus: error: program bank: {e}")
    records = []
    if a.dir:
        os.makedirs(a.dir, exist_ok=True)

        def sink(rec):
            records.append(rec)
            name = f"s{rec['seed']}_{rec['index']:05d}.py"
            with open(os.path.join(a.dir, name), "w") as fh:
                fh.write(rec["source"])
        reasons, secs = run(tasks, a.jobs, limits(a.max_frames), a.max_frames, a.max_chars,
                            variety, sink)
    else:
        tmp = a.out + ".tmp"  # renamed into place at the end: no half-written corpus
        with open(tmp, "w") as fh:
            def sink(rec):
                records.append({k: rec[k] for k in ("trace", "family", "frames")})
                fh.write(json.dumps(rec) + "\n")
            reasons, secs = run(tasks, a.jobs, limits(a.max_frames), a.max_frames,
                                a.max_chars, variety, sink)
        os.replace(tmp, a.out)
    print(summary(records, reasons, secs, len(tasks)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
