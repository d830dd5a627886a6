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
echo "ready: .venv/bin/python has $(.venv/bin/python -c 'import cbor2, nacl, jsonschema; print("cbor2", cbor2.__version__ if hasattr(cbor2, "__version__") else "", "PyNaCl", nacl.__version__, "jsonschema")')"
