#!/usr/bin/env bash
# eligo against the decode floor in instructions: both under valgrind's callgrind, on one thread,
# on one synthetic extract. Instruction counts repeat to within a few hundredths of a percent
# run to run, where the wall-clock ratio of bench/run.sh moves by a tenth with the VM's load;
# a change that saves 1 % shows here and not there.
#   bench/instructions.sh [PATIENTS]     (default 250000; needs valgrind)
# The extract is generated with `eligo synth --seed 7` into bench/data/ (git-ignored).
# Prints each count and the ratio; callgrind's outputs stay in bench/data/callgrind-*.out for
# `callgrind_annotate`.
set -euo pipefail
cd "$(dirname "$0")/.."
patients=${1:-250000}
command -v valgrind > /dev/null || { echo "bench/instructions.sh needs valgrind" >&2; exit 1; }

cargo build --release --quiet --bin eligo --example decode_floor
target=${CARGO_TARGET_DIR:-target}
eligo="$target/release/eligo"
floor="$target/release/examples/decode_floor"
data="bench/data/synth-$patients"
[ -f "$data/extract.toml" ] || "$eligo" --quiet synth --patients "$patients" --seed 7 --out "$data" > /dev/null

# Total instructions of a command under callgrind (every thread), its output kept in $1.
count() {
    local out=$1; shift
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@" > /dev/null 2>&1
    callgrind_annotate "$out" 2> /dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}

floor_ir=$(RAYON_NUM_THREADS=1 POLARS_MAX_THREADS=1 \
    count bench/data/callgrind-floor.out "$floor" "$data")
eligo_ir=$(count bench/data/callgrind-eligo.out "$eligo" --quiet run --data "$data" \
    --out "bench/data/out-instructions-$patients" --as-of 2026-01-15 --restricted --threads 1)
awk -v p="$patients" -v f="$floor_ir" -v e="$eligo_ir" 'BEGIN {
    printf "%d patients, one thread: decode floor %.0f M instructions, eligo %.0f M, eligo / floor %.2f\n",
        p, f / 1e6, e / 1e6, e / f }'
