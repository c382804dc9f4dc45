#!/usr/bin/env bash
# The machine and the build a benchmark ran on, one "key: value" a line, for the results'
# sidecar file (bench/results/<time>.machine): the project's VMs have been Intel Xeons with
# AVX-512 and AMD EPYCs without it, and the same build's ratio to the floor differs by a
# quarter between them (BENCHMARKS.md), so a result names its processor.
set -u
cd "$(dirname "$0")/.."
field() { lscpu 2>/dev/null | sed -n "s/^$1:[[:space:]]*//p" | head -1; }
has() { grep -qw "$1" /proc/cpuinfo 2>/dev/null && echo yes || echo no; }
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && commit="$commit (modified)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "commit: $commit"
echo "cpu: $(field 'Vendor ID') $(field 'Model name')"
echo "cores: $(nproc)"
echo "caches: L2 $(field 'L2 cache'), L3 $(field 'L3 cache')"
echo "avx2: $(has avx2)"
echo "avx512f: $(has avx512f)"
echo "hypervisor: $(field 'Hypervisor vendor')"
echo "memory: $(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)"
echo "kernel: $(uname -r)"
