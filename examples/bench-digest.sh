#!/usr/bin/env bash
# Benchmarks `custody digest` against bare SHA-256 of the same bytes, in
# one run, from the page cache:
#   - a directory of 1,000 files, 2 GiB in all: `custody digest DIR`
#     against coreutils `sha256sum` of every file on one core, and against
#     the parallel bound: `openssl dgst -sha256` (which uses the CPU's SHA
#     instructions, as custody's sha2 does and coreutils does not) on
#     every core at once (xargs -P);
#   - one 2 GiB file: `custody digest FILE` against `openssl dgst -sha256
#     FILE` (one stream of bytes is one core's work either way).
# Each is timed three times, alternating, and the best kept.
# Usage: examples/bench-digest.sh [MiB]   (default 2048 MiB per case)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
custody="$PWD/target/release/custody"
mib=${1:-2048}
cores=$(nproc)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/model"
per=$(( mib * 1048576 / 1000 ))
for i in $(seq -w 1 1000); do head -c "$per" /dev/urandom > "$dir/model/shard-$i.bin"; done
head -c $(( mib * 1048576 )) /dev/urandom > "$dir/big.bin"
cat "$dir"/model/* "$dir/big.bin" > /dev/null   # into the page cache
cd "$dir"
secs() { local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N); python3 -c "print($t1 - $t0)"; }
best() { python3 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$@"; }
one=() par=() ours=() file_bare=() file_ours=()
for _ in 1 2 3; do
    one+=("$(secs sh -c 'sha256sum model/*')")
    par+=("$(secs sh -c "ls model/* | xargs -P $cores -n $(( (1000 + cores - 1) / cores )) openssl dgst -sha256")")
    ours+=("$(secs "$custody" digest model)")
    file_bare+=("$(secs openssl dgst -sha256 big.bin)")
    file_ours+=("$(secs "$custody" digest big.bin)")
done
one=$(best "${one[@]}"); par=$(best "${par[@]}"); ours=$(best "${ours[@]}")
file_bare=$(best "${file_bare[@]}"); file_ours=$(best "${file_ours[@]}")
python3 - "$mib" "$cores" "$one" "$par" "$ours" "$file_bare" "$file_ours" <<'PY'
import sys
mib, cores = int(sys.argv[1]), int(sys.argv[2])
one, par, ours, fb, fo = map(float, sys.argv[3:])
gib = mib / 1024
print(f"custody digest, {cores} core(s), from the page cache, best of 3")
print(f"directory, 1,000 files, {gib:.1f} GiB:")
print(f"  sha256sum, one core:        {one:6.2f} s  {gib / one * 1024:7.0f} MiB/s")
print(f"  openssl on {cores} cores (bound): {par:6.2f} s  {gib / par * 1024:7.0f} MiB/s")
print(f"  custody digest:             {ours:6.2f} s  {gib / ours * 1024:7.0f} MiB/s  ({100 * par / ours:.0f}% of the parallel bound, {one / ours:.2f}x one core)")
print(f"one file, {gib:.1f} GiB:")
print(f"  openssl dgst (bound):        {fb:6.2f} s  {gib / fb * 1024:7.0f} MiB/s")
print(f"  custody digest:             {fo:6.2f} s  {gib / fo * 1024:7.0f} MiB/s  ({100 * fb / fo:.0f}% of the bound)")
PY
