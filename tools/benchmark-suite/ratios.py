#!/usr/bin/env python3
"""Gradient ÷ primal ratios from one ordo-one/benchmark run of tools/benchmark-suite, as a Markdown table.

ordo-one's benchmark measures each benchmark on its own and cannot divide one by another; this
reads its JMH export (`--format jmh`, a JSON list) and pairs, within each suite (target), every
"<case>: gradient …" benchmark with "<case>: primal" (and "<case>: hand primal" where there is
one) of the same run, dividing medians (p50) of the wall clock.

    cd tools/benchmark-suite
    swift package --allow-writing-to-package-directory benchmark baseline update current
    swift package --allow-writing-to-package-directory benchmark baseline read current \
        --format jmh --path .build/bench-export
    python3 ratios.py .build/bench-export/current.jmh.json

Only the wall clock, mallocs and resident memory are read: every benchmark has those (the JMH
export carries its secondary metrics over from one benchmark to the next, so a metric that only
some benchmarks have is not trustworthy there).
"""
import json
import re
import sys

WALL = "Time (wall clock)"
MALLOCS = "Malloc (total)"
RESIDENT = "VmHWM, kernel peak RSS"


def p50(metric):
    return metric["scorePercentiles"]["50.0"]


def fmt_time(us):
    return f"{us / 1e3:.1f} ms" if us < 1e6 else f"{us / 1e6:.2f} s"


def fmt_bytes(b):
    return f"{b / 2**20:.1f} MiB" if b < 2**30 else f"{b / 2**30:.2f} GiB"


def main(path):
    with open(path) as f:
        elements = json.load(f)
    suites = {}
    for e in elements:
        m = re.match(r"^package\.benchmark\.([^.]+)\.(.*)$", e["benchmark"])
        if not m:
            continue
        target, name = m.group(1), m.group(2).replace("_", " ")
        case, _, what = name.partition(": ")
        secondary = e.get("secondaryMetrics", {})
        if WALL not in secondary:
            continue
        suites.setdefault(target, {}).setdefault(case, {})[what] = {
            "wall": p50(secondary[WALL]),
            "mallocs": p50(secondary[MALLOCS]) if MALLOCS in secondary else None,
            "resident": p50(secondary[RESIDENT]) if RESIDENT in secondary else None,
            "n": e.get("measurementIterations"),
        }
    print("| suite | case | gradient | wall p50 | primal p50 (generic / hand) | gradient ÷ primal | ÷ hand primal | mallocs p50 | peak RSS (VmHWM) |")
    print("|---|---|---|---|---|---|---|---|---|")
    missing = 0
    for target in sorted(suites):
        for case in sorted(suites[target]):
            rows = suites[target][case]
            primal = rows.get("primal")
            hand = rows.get("hand primal")
            for what in sorted(w for w in rows if w.startswith("gradient")):
                g = rows[what]
                if primal is None:
                    missing += 1
                ratio = f"{g['wall'] / primal['wall']:.1f}×" if primal else "no primal"
                hand_ratio = f"{g['wall'] / hand['wall']:.1f}×" if hand else "–"
                primals = (fmt_time(primal["wall"]) if primal else "–") + " / " + (fmt_time(hand["wall"]) if hand else "–")
                mallocs = f"{g['mallocs']:.0f}" if g["mallocs"] is not None else "–"
                resident = fmt_bytes(g["resident"]) if g["resident"] is not None else "–"
                label = what[len("gradient"):].strip() or "–"
                print(f"| {target} | {case} | {label} | {fmt_time(g['wall'])} | {primals} | {ratio} | {hand_ratio} | {mallocs} | {resident} |")
    return 1 if missing else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
