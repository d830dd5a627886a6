#!/usr/bin/env python3
"""Validates the JSON every custody command prints against its JSON Schema
in schemas/output/, on real output: the demo's ledger (whole, as a
directory, as a partial export, cut short), every test vector, and the
license registry.

Usage: check_outputs.py PATH/TO/custody
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas" / "output"


def registry():
    resources = []
    for p in SCHEMAS.glob("*.schema.json"):
        doc = json.loads(p.read_text())
        resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


REG = registry()


def validator(name):
    doc = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(doc)
    return Draft202012Validator(doc, registry=REG)


VALIDATORS = {n: validator(n) for n in ["verify", "log", "openness", "licenses"]}
checked = {n: 0 for n in VALIDATORS}
failures = []


def run(custody, args, cwd, env, codes=(0,)):
    r = subprocess.run([custody, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode not in codes:
        failures.append(f"{' '.join(args)}: exit {r.returncode}, expected {codes}: {r.stderr.strip()}")
    return r


def check(name, doc, what):
    errors = sorted(VALIDATORS[name].iter_errors(doc), key=lambda e: list(e.path))
    checked[name] += 1
    for e in errors[:3]:
        failures.append(f"{what}: {name}.schema.json: {'/'.join(map(str, e.path))}: {e.message[:300]}")


def main():
    custody = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, CUSTODY_STATE_DIR=os.path.join(tmp, "state"))
        run(custody, ["demo", "d"], tmp, env)
        d = os.path.join(tmp, "d")
        whole = os.path.join(d, "tinylm-1.0.custody")
        run(custody, ["export", os.path.join(d, "ledger"), "--out", "p.custody",
                      "--disclose", "openness", "--key", os.path.join(d, "keys/release-owner.key")], tmp, env)
        data = pathlib.Path(whole).read_bytes()
        pathlib.Path(tmp, "cut.custody").write_bytes(data[: len(data) // 2])
        sources = [(whole, 0), (os.path.join(d, "ledger"), 0), ("p.custody", 0), ("cut.custody", 1)]
        sources += [(str(p), None) for p in sorted((ROOT / "tests" / "vectors").glob("*.ledger"))]
        for src, code in sources:
            codes = (0, 1) if code is None else (code,)
            r = run(custody, ["verify", src, "--json"], tmp, env, codes)
            check("verify", json.loads(r.stdout), f"verify {src}")
            r = run(custody, ["openness", src, "--json"], tmp, env, codes)
            if r.stdout.strip():
                check("openness", json.loads(r.stdout), f"openness {src}")
        # Several ledgers at once, one of them invalid: an array.
        r = run(custody, ["openness", whole, "p.custody", "cut.custody", "--json"], tmp, env, (1,))
        doc = json.loads(r.stdout)
        if not isinstance(doc, list) or len(doc) != 3:
            failures.append("openness of three ledgers is not an array of three")
        check("openness", doc, "openness of three ledgers")
        r = run(custody, ["log", whole, "--json"], tmp, env)
        for n, line in enumerate(r.stdout.splitlines()):
            check("log", json.loads(line), f"log line {n + 1}")
        r = run(custody, ["licenses", "--json"], tmp, env)
        listing = json.loads(r.stdout)
        check("licenses", listing, "licenses")
        for lid in ["MIT", "CC-BY-NC-4.0", "LicenseRef-Llama-2", "GPL-2.0+", "AGPL-3.0",
                    "Classpath-exception-2.0"] + [l["id"] for l in listing["licenses"][::50]]:
            r = run(custody, ["licenses", lid, "--json"], tmp, env)
            check("licenses", json.loads(r.stdout), f"licenses {lid}")
    for f in failures:
        print("FAIL", f)
    print(f"checked {sum(checked.values())} outputs against schemas/output/: "
          + ", ".join(f"{n} {c}" for n, c in checked.items()))
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
