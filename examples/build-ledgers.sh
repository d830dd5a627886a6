#!/usr/bin/env bash
# Builds one ledger per model of models/openness-sample.tsv (ten rows of
# table 3 of Eiras et al. 2024) from its event file, then prints their
# openness table. Each event file records only what the paper knew: a `?`
# cell records nothing for that component.
#
#   examples/build-ledgers.sh [OUT_DIR]
#
# The binary: $CUSTODY if set, else `custody` on PATH (`cargo install
# --path .`), else this checkout's, built with `cargo build --release`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(mktemp -d)}
if [ -n "${CUSTODY:-}" ]; then
  custody=$CUSTODY
elif command -v custody >/dev/null 2>&1; then
  custody=custody
else
  (cd "$here/.." && cargo build --release --quiet)
  custody="$here/../target/release/custody"
fi
# The examples' throwaway key keeps its high-water marks beside the ledgers.
export CUSTODY_STATE_DIR=${CUSTODY_STATE_DIR:-$out/state}
mkdir -p "$out"
"$custody" keygen --out "$out/examples.key" >/dev/null
ledgers=()
while IFS=$'\t' read -r slug name; do
  "$custody" init "$out/$slug" --key "$out/examples.key" --name "$name" >/dev/null
  "$custody" append "$out/$slug" --key "$out/examples.key" "$here/models/$slug.jsonl" >/dev/null
  ledgers+=("$out/$slug")
done < "$here/models/index.tsv"
"$custody" openness "${ledgers[@]}"
echo
echo "ledgers in $out"
