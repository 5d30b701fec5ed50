"""One Markdown row of tools/checkpoint-benchmark from a `rewind gradient --json` object on stdin."""
import json
import sys

budget_text, baseline, label = sys.argv[1], int(sys.argv[2]), sys.argv[3]
units = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
budget = next(int(budget_text[: -len(u)]) * f for u, f in units.items() if budget_text.endswith(u))
d = json.load(sys.stdin)
r = d["run"]
primal = r["primalSecondsPerStep"] * d["steps"]
within = "yes" if r["peakResidentBytes"] <= budget + baseline else "NO"
print(
    f"| {label} | {budget_text} | {r['strategy']} | {r['seconds']:.2f} s | {r['runSeconds'] / primal:.1f}× | "
    f"{r['forwardSteps']} / {r['optimalForwardSteps']} | {r['predictedSeconds']:.2f} / {r['runSeconds']:.2f} s | "
    f"{r['peakResidentBytes'] / 2**20:.1f} MiB | {within} |"
)
