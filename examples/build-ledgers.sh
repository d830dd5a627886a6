#!/usr/bin/env bash
# Builds one ledger per model of models/openness-sample.tsv (ten rows of
# table 3 of Eiras et al. 2024) from its event file, then prints their
# openness table. Each event file records only what the paper knew: a `?`
# cell records nothing for that component.
#
#   examples/build-ledgers.sh [OUT_DIR]        (CUSTODY=path/to/custody to choose the binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(mktemp -d)}
custody=${CUSTODY:-custody}
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
