#!/usr/bin/env bash
# Creates .venv at the repository root with the pinned packages the Python
# cross-checks need (tests/independent/). Run once; then
#   cargo test -- --include-ignored
# runs them too (tests/independent.rs finds .venv by itself).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/python-requirements.txt
echo "ready: $(.venv/bin/python -c 'from importlib.metadata import version as v; print(", ".join(p + " " + v(p) for p in ("cbor2", "PyNaCl", "jsonschema", "openlineage-python", "model-signing", "huggingface_hub")))')"
