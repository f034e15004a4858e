#!/usr/bin/env python3
"""Interleaved speed comparison of `cwm bench` and llama.cpp (`llama-speed`) on the same files.

    scripts/bench_vs_llama_cpp.py [--rounds 3] [-p 512] [-n 128] [-r 3] [-t 2] [--json OUT]
                                  FILE[=PEER_FILE] ...

Each round runs, for every file in order, `cwm bench` (which also measures the memory read
bandwidth and the decode roofline) and then llama.cpp's llama-speed, so both engines see the
same machine state; several rounds spread a shared machine's noise over both. Every figure in
the table is the median over rounds of each run's own median of -r repetitions.

`FILE=PEER_FILE` gives llama.cpp another file: a `cwm`-architecture file (local/global layers),
which llama.cpp does not load, is compared with the `llama`-architecture file of the same shape.

llama-speed comes from scripts/peer-setup.sh ($PEER_DIR/bin/llama-speed); `cwm` from
build/cwm (or --cwm). Progress goes to stderr, the Markdown table to stdout.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEER_LINE = re.compile(r"^pp_tps=([0-9.]+) tg_tps=([0-9.]+)$", re.M)


def run_cwm(cwm, path, a):
    cmd = [cwm, "bench", "-m", path, "-p", str(a.p), "-n", str(a.n), "-r", str(a.r), "-t", str(a.t), "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"cwm bench failed on {path}:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def run_peer(speed, path, a):
    cmd = [speed, "-m", path, "-p", str(a.p), "-n", str(a.n), "-r", str(a.r), "-t", str(a.t)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    m = PEER_LINE.search(proc.stdout)
    if proc.returncode != 0 or not m:
        sys.exit(f"llama-speed failed on {path}:\n{proc.stdout}\n{proc.stderr[-2000:]}")
    return {"pp_tps": float(m.group(1)), "tg_tps": float(m.group(2))}


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def summarize(name, cwm_runs, peer_runs, a):
    row = {"file": name, "rounds": len(cwm_runs)}
    for key in ("pp_tps", "tg_tps", "ttft_s", "bandwidth_gbs", "tg_bytes_per_token"):
        row["cwm_" + key] = median_of(cwm_runs, key)
    for key in ("pp_tps", "tg_tps"):
        row["llama_" + key] = median_of(peer_runs, key)
        row[key + "_ratio"] = row["cwm_" + key] / row["llama_" + key]
    # The roofline of the median bandwidth, so one lucky or unlucky bandwidth pass does not
    # decide it; per-round figures are in the JSON.
    row["tg_roofline_tps"] = row["cwm_bandwidth_gbs"] * 1e9 / row["cwm_tg_bytes_per_token"]
    row["tg_roofline_pct"] = 100 * row["cwm_tg_tps"] / row["tg_roofline_tps"]
    row["per_round"] = {"cwm": cwm_runs, "llama": peer_runs}
    return row


def table(rows, a):
    head = (f"| file | cwm pp{a.p} | llama.cpp pp{a.p} | ratio | cwm tg{a.n} | llama.cpp tg{a.n} | ratio "
            f"| bandwidth GB/s | roofline t/s | cwm % of roofline | cwm TTFT (s) |")
    lines = [head, "|" + " --- |" * 11]
    for r in rows:
        lines.append(
            f"| {r['file']} | {r['cwm_pp_tps']:.1f} | {r['llama_pp_tps']:.1f} | {r['pp_tps_ratio']:.2f}x "
            f"| {r['cwm_tg_tps']:.1f} | {r['llama_tg_tps']:.1f} | {r['tg_tps_ratio']:.2f}x "
            f"| {r['cwm_bandwidth_gbs']:.1f} | {r['tg_roofline_tps']:.1f} | {r['tg_roofline_pct']:.0f}% "
            f"| {r['cwm_ttft_s']:.2f} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", metavar="FILE[=PEER_FILE]")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-r", type=int, default=3)
    ap.add_argument("-t", type=int, default=2)
    ap.add_argument("--cwm", default=str(ROOT / "build" / "cwm"))
    ap.add_argument("--llama-speed", default=os.path.join(os.environ.get("PEER_DIR", ""), "bin", "llama-speed"))
    ap.add_argument("--json", help="also write every round's figures here")
    a = ap.parse_args()
    pairs = [(f.split("=", 1) + [f])[:2] for f in a.files]
    runs = {f: ([], []) for f, _ in pairs}
    for rnd in range(a.rounds):
        for path, peer_path in pairs:
            print(f"round {rnd + 1}/{a.rounds}: {Path(path).name}", file=sys.stderr, flush=True)
            runs[path][0].append(run_cwm(a.cwm, path, a))
            runs[path][1].append(run_peer(a.llama_speed, peer_path, a))
    rows = [summarize(Path(p).name, *runs[p], a) for p, _ in pairs]
    print(table(rows, a))
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
