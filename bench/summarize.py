"""Summarizes a benchmark TSV: median per size and engine, and the ratios the targets name."""
import csv
import os
import statistics
import sys
from collections import defaultdict

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
# The machine the rows were measured on (bench/machine.sh), where the run recorded it.
machine = sys.argv[1].removesuffix(".tsv") + ".machine"
if os.path.exists(machine):
    facts = dict(line.split(": ", 1) for line in open(machine).read().splitlines() if ": " in line)
    print(", ".join(f"{k} {facts[k]}" for k in ("cpu", "cores", "avx512f", "commit") if k in facts))
    print()
runs = defaultdict(list)
for r in rows:
    runs[(int(r["patients"]), r["engine"])].append(r)

def median(key, field):
    return statistics.median(float(r[field]) for r in runs[key])

print("| patients | engine | runs | wall s (median) | cpu s | peak RSS MB |")
print("|---:|---|---:|---:|---:|---:|")
for (n, engine) in sorted(runs):
    key = (n, engine)
    cpu = statistics.median(float(r["user_s"]) + float(r["sys_s"]) for r in runs[key])
    print(f"| {n:,} | {engine} | {len(runs[key])} | {median(key, 'wall_s'):.2f} | {cpu:.2f} | {median(key, 'max_rss_mb'):.0f} |")
print()
sizes = sorted({n for n, _ in runs})
for n in sizes:
    if (n, "eligo") in runs and (n, "decode-floor") in runs and (n, "duckdb") in runs:
        e, f, d = (median((n, k), "wall_s") for k in ("eligo", "decode-floor", "duckdb"))
        print(f"{n:,} patients: eligo / decode floor = {e / f:.2f} (target <= 2), "
              f"eligo / DuckDB = {e / d:.2f} (target < 1), "
              f"per patient {e / n * 1e6:.2f} us")
        # Round by round (the engines of a round run back to back), and in CPU time: on a
        # noisy VM the ratio of medians hides how far single rounds spread.
        pairs = zip(runs[(n, "eligo")], runs[(n, "decode-floor")])
        rounds = ", ".join(f"{float(a['wall_s']) / float(b['wall_s']):.2f}" for a, b in pairs)
        cpu = lambda k: statistics.median(float(r["user_s"]) + float(r["sys_s"]) for r in runs[(n, k)])
        print(f"{n:,} patients: eligo / decode floor round by round {rounds}; "
              f"in CPU time {cpu('eligo') / cpu('decode-floor'):.2f}")
for n in sizes:
    if (n, "eligo-general") in runs and (n, "duckdb") in runs:
        g, d = (median((n, k), "wall_s") for k in ("eligo-general", "duckdb"))
        print(f"{n:,} patients: eligo on the general criteria alone / DuckDB on the same "
              f"criteria = {g / d:.2f}")
if len(sizes) >= 2 and all((n, "eligo") in runs for n in sizes[:2]):
    a, b = sizes[0], sizes[-1]
    pa = median((a, "eligo"), "wall_s") / a
    pb = median((b, "eligo"), "wall_s") / b
    print(f"per-patient cost at {b:,} / at {a:,} = {pb / pa:.2f} (target <= 1.2)")
