#!/usr/bin/env bash
# The benchmark: eligo against the decode floor and DuckDB, side by side in one run.
#   bench/run.sh [PATIENTS...]      (default: 1000000 10000000)
# Extracts are generated with `eligo synth` into bench/data/ (git-ignored); each engine runs
# REPEAT times (default 3). Results: bench/results/<date>.tsv, summarized in BENCHMARKS.md, with
# the processor and commit beside it in bench/results/<date>.machine (bench/machine.sh).
# ENGINES picks which run (default: all four): decode-floor eligo eligo-general duckdb.
# eligo-general is eligo on the shipped definition's general criteria alone (bench/general_only.py),
# the same work as DuckDB's SQL translation; eligo is the whole definition (drugs and cohorts too).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(1000000 10000000)
repeat=${REPEAT:-3}
as_of=2026-01-15
threads=$(nproc)
engines=" ${ENGINES:-decode-floor eligo eligo-general duckdb} "
runs() { [[ "$engines" == *" $1 "* ]]; }

cargo build --release --quiet --bin eligo --example decode_floor
target=${CARGO_TARGET_DIR:-target}
eligo="$target/release/eligo"
floor="$target/release/examples/decode_floor"
python3 -c "import duckdb, pyarrow" 2>/dev/null || python3 -m pip install --quiet duckdb pyarrow

mkdir -p bench/data bench/results
general=bench/data/impress-norway-general.toml
python3 bench/general_only.py pipelines/impress-norway.toml "$general"
results="bench/results/$(date -u +%Y-%m-%dT%H%M%SZ).tsv"
printf 'patients\tengine\trun\twall_s\tuser_s\tsys_s\tmax_rss_mb\n' > "$results"
bench/machine.sh > "${results%.tsv}.machine"

# Runs a command under /usr/bin/time -v and appends one row of measurements.
measure() {
    local patients=$1 engine=$2 run=$3; shift 3
    local log; log=$(mktemp)
    /usr/bin/time -v "$@" > /dev/null 2> "$log" || { cat "$log"; exit 1; }
    awk -v p="$patients" -v e="$engine" -v r="$run" -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, t, ":"); wall = (n == 3) ? t[1]*3600 + t[2]*60 + t[3] : t[1]*60 + t[2] }
        /User time/ { user = $2 } /System time/ { sys = $2 } /Maximum resident/ { rss = $2 / 1024 }
        END { printf "%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t%.0f\n", p, e, r, wall, user, sys, rss }' "$log" | tee -a "$results"
    rm -f "$log"
}

# Reads the extract's files into the page cache. Each engine is measured from a warm cache,
# whatever ran before it: DuckDB's run at 10 M holds about 18 GB of this 24 GB machine and
# evicted the extract, so the decode floor after it read 1.2 GB from disk (26 s for 9 s of
# CPU, 2026-12-04) and the engine after the floor found it cached.
warm() { cat "$1"/*.parquet > /dev/null; }

for n in "${sizes[@]}"; do
    data="bench/data/synth-$n"
    if [ ! -f "$data/extract.toml" ]; then
        echo "generating $n patients" >&2
        measure "$n" synth 1 "$eligo" --quiet synth --patients "$n" --seed 7 --out "$data"
    fi
    # Where each engine writes; compared with DuckDB's results below.
    declare -A out=([eligo]="bench/data/out-$n" [eligo-general]="bench/data/out-general-$n")
    for run in $(seq 1 "$repeat"); do
        runs decode-floor && warm "$data" && measure "$n" decode-floor "$run" "$floor" "$data"
        runs eligo && warm "$data" && measure "$n" eligo "$run" "$eligo" --quiet run \
            --data "$data" --out "${out[eligo]}" --as-of "$as_of" --restricted
        runs eligo-general && warm "$data" && measure "$n" eligo-general "$run" "$eligo" \
            --quiet run --pipeline "$general" --data "$data" --out "${out[eligo-general]}" \
            --as-of "$as_of" --restricted
        runs duckdb && warm "$data" && measure "$n" duckdb "$run" python3 \
            bench/reference/evaluate.py "$data" --as-of "$as_of" \
            --out "bench/data/duckdb-$n.parquet" --threads "$threads"
    done
    # Same patient-level results, or the numbers mean nothing.
    # (Against this run's DuckDB results, or an earlier run's where DuckDB was not run now.)
    for engine in eligo eligo-general; do
        if runs "$engine" && [ -f "bench/data/duckdb-$n.parquet" ]; then
            python3 bench/reference/compare.py "${out[$engine]}/restricted/patients.parquet" \
                "bench/data/duckdb-$n.parquet"
        fi
    done
done
python3 bench/summarize.py "$results"
