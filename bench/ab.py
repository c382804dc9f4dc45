"""Alternated timing of eligo builds against each other and the decode floor, at one size.

    bench/ab.py [--rounds N] [--patients N] [--no-floor] BUILD...

A BUILD is a git revision (built once into bench/data/ab/, from a temporary worktree),
`worktree` (the checkout as it is, uncommitted changes too), or the path of an eligo binary.
Each round warms the extract's pages, runs the decode floor (HEAD's `examples/decode_floor.rs`),
then each build's `eligo run --restricted`, the builds' order reversed every other round: on
the project's VMs the wall time drifts by a tenth within an hour, and a build run second in
every round is measured in another phase of the VM than the first. The rows go to
bench/results/ab-<time>.tsv, the machine beside it (bench/machine.sh); the medians, each
build's ratio to the floor, and each build against the first are printed (BENCHMARKS.md,
"Measuring a change").

Old builds run from the repository's root read HEAD's `pipelines/impress-norway.toml`.
"""
import argparse
import csv
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AS_OF = "2026-01-15"
FLOOR = "decode-floor"


def parse_time(text):
    """(wall s, user s, sys s, peak RSS MB) from `/usr/bin/time -f '%e %U %S %M'`'s last line."""
    wall, user, system, rss_kb = text.strip().splitlines()[-1].split()
    return float(wall), float(user), float(system), int(rss_kb) / 1024


def order(builds, round_index):
    """The builds in the order of round `round_index` (from 0): as given, then reversed."""
    return list(builds) if round_index % 2 == 0 else list(reversed(builds))


def summarize(rows, builds):
    """Markdown lines: per build (and the floor, where measured) its runs, median wall, CPU and
    peak memory, its ratios to the floor's medians, and how far each build's medians are from
    the first build's. `rows` are dicts with build, wall_s, user_s, sys_s, max_rss_mb."""
    by_build = {}
    for row in rows:
        by_build.setdefault(row["build"], []).append(row)

    def medians(build):
        runs = by_build[build]
        wall = statistics.median(float(r["wall_s"]) for r in runs)
        cpu = statistics.median(float(r["user_s"]) + float(r["sys_s"]) for r in runs)
        rss = statistics.median(float(r["max_rss_mb"]) for r in runs)
        return len(runs), wall, cpu, rss

    floor = medians(FLOOR) if FLOOR in by_build else None
    first = medians(builds[0])
    lines = [
        "| build | runs | wall s | cpu s | peak RSS MB | wall / floor | cpu / floor "
        "| wall, cpu vs first |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for build in ([FLOOR] if floor else []) + list(builds):
        runs, wall, cpu, rss = medians(build)
        to_floor = f"{wall / floor[1]:.2f}x | {cpu / floor[2]:.2f}x" if floor else "- | -"
        versus = (
            "-"
            if build == FLOOR
            else f"{(wall / first[1] - 1) * 100:+.1f} %, {(cpu / first[2] - 1) * 100:+.1f} %"
        )
        lines.append(
            f"| {build} | {runs} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {to_floor} | {versus} |"
        )
    return lines


def run(command, **kwargs):
    subprocess.run(command, check=True, **kwargs)


def built(revision, target, store):
    """The path of `revision`'s eligo binary under `store`, built from a worktree if missing."""
    parsed = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "--short", f"{revision}^{{commit}}"],
        cwd=ROOT, capture_output=True, text=True,
    )
    if parsed.returncode != 0:
        sys.exit(f"{revision}: neither a git revision, `worktree`, nor an executable eligo binary")
    sha = parsed.stdout.strip()
    binary = os.path.join(store, f"eligo-{sha}")
    if os.path.exists(binary):
        return sha, binary
    worktree = tempfile.mkdtemp(prefix=f"eligo-{sha}-")
    try:
        run(["git", "worktree", "add", "--quiet", "--detach", worktree, sha], cwd=ROOT)
        env = dict(os.environ, CARGO_TARGET_DIR=target)
        print(f"building {revision} ({sha})", file=sys.stderr)
        run(["cargo", "build", "--release", "--quiet", "--bin", "eligo"], cwd=worktree, env=env)
        shutil.copy2(os.path.join(target, "release", "eligo"), binary)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", worktree], cwd=ROOT)
        shutil.rmtree(worktree, ignore_errors=True)
    return sha, binary


def timed(command):
    """Runs `command` under /usr/bin/time; its measurements ([`parse_time`])."""
    with tempfile.NamedTemporaryFile(mode="r") as times:
        done = subprocess.run(["/usr/bin/time", "-o", times.name, "-f", "%e %U %S %M", *command],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
        return parse_time(times.read())


def warm(data):
    for name in sorted(os.listdir(data)):
        if name.endswith(".parquet"):
            with open(os.path.join(data, name), "rb") as f:
                while f.read(1 << 24):
                    pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("builds", nargs="+", help="git revisions, `worktree`, or eligo binaries")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--patients", type=int, default=10_000_000)
    parser.add_argument("--no-floor", action="store_true", help="time the builds alone")
    args = parser.parse_args()

    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    store = os.path.join(ROOT, "bench", "data", "ab")
    os.makedirs(store, exist_ok=True)
    run(["cargo", "build", "--release", "--quiet", "--bin", "eligo", "--example", "decode_floor"],
        cwd=ROOT)
    # Copied before any revision's build replaces the target's binaries.
    head = os.path.join(store, "eligo-worktree")
    floor = os.path.join(store, "decode_floor")
    shutil.copy2(os.path.join(target, "release", "eligo"), head)
    shutil.copy2(os.path.join(target, "release", "examples", "decode_floor"), floor)
    data = os.path.join(ROOT, "bench", "data", f"synth-{args.patients}")
    if not os.path.exists(os.path.join(data, "extract.toml")):
        print(f"generating {args.patients} patients", file=sys.stderr)
        run([head, "--quiet", "synth", "--patients", str(args.patients), "--seed", "7",
             "--out", data])

    binaries = {}
    for build in args.builds:
        if build == "worktree":
            binaries[build] = head
        elif os.path.isfile(build) and os.access(build, os.X_OK):
            binaries[os.path.basename(build)] = os.path.abspath(build)
        else:
            label, binary = built(build, target, store)
            binaries[label] = binary
    labels = list(binaries)

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    results = os.path.join(ROOT, "bench", "results", f"ab-{stamp}.tsv")
    machine = subprocess.run([os.path.join(ROOT, "bench", "machine.sh")], check=True,
                             capture_output=True, text=True).stdout
    with open(results.removesuffix(".tsv") + ".machine", "w") as f:
        f.write(machine)
    processor = next((line.split(": ", 1)[1] for line in machine.splitlines()
                      if line.startswith("cpu: ")), "processor unknown")
    fields = ["patients", "round", "build", "wall_s", "user_s", "sys_s", "max_rss_mb"]
    rows = []
    with tempfile.TemporaryDirectory() as out, open(results, "w", newline="") as tsv:
        writer = csv.DictWriter(tsv, fields, delimiter="\t")
        writer.writeheader()
        for r in range(args.rounds):
            runs = [] if args.no_floor else [(FLOOR, [floor, data])]
            for label in order(labels, r):
                runs.append((label, [binaries[label], "--quiet", "run", "--data", data, "--out",
                                     os.path.join(out, "o"), "--as-of", AS_OF, "--restricted"]))
            for label, command in runs:
                warm(data)
                wall, user, system, rss = timed(command)
                row = dict(patients=args.patients, round=r + 1, build=label, wall_s=f"{wall:.2f}",
                           user_s=f"{user:.2f}", sys_s=f"{system:.2f}", max_rss_mb=f"{rss:.0f}")
                writer.writerow(row)
                tsv.flush()
                rows.append(row)
                print("\t".join(str(row[f]) for f in fields[1:]), file=sys.stderr)
    print(f"{args.patients:,} patients, {args.rounds} rounds ({results}), {processor}:")
    print("\n".join(summarize(rows, labels)))


if __name__ == "__main__":
    main()
