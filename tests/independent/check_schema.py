#!/usr/bin/env python3
"""Checks schemas/event.schema.json against `custody append`.

Usage: check_schema.py PATH/TO/custody

Each line of event-lines.jsonl (beside this script) is an object:

    valid   the verdict event.schema.json must give
    append  (optional) whether `custody append` accepts the line, when that
            differs from `valid`: the line fails only on something a schema
            cannot express (ledger rules, SPDX grammar, nesting depth, JSON
            text details, keys that are no usable Ed25519 key, license ids
            outside the license registry); absent, append must agree with
            `valid`. License ids of lines append must accept are in
            schemas/licenses.json.
    why     what the line exercises
    event   the event (sent as json.dumps of it), or
    text    the exact line to send

Every line is validated against the schema, and every line is appended
alone, as the only line of a batch, to its own copy of a scratch ledger
whose artifacts (and one appender key) the lines refer to are already
declared. `custody append` must exit 0 when it accepts and 2 when it
refuses. Prints one line per case and exits 1 on any disagreement.

Needs jsonschema.
"""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema

HERE = Path(__file__).resolve().parent
SCHEMA = HERE.parent.parent / "schemas" / "event.schema.json"
LINES = HERE / "event-lines.jsonl"

# What the lines may refer to: declared artifacts of each kind, and a key
# holding the appender role (so that revoking it is valid). Keys in grant and
# revoke events must be usable Ed25519 public keys (FORMAT.md section 7), so
# these are real ones, made with `custody keygen` (their private halves were
# not kept). The lines also use a second one, never granted here:
# 8abf459d39acc1115f3a9c7d603906b70dee74ea798bd066487e1e22f078f3fe.
SETUP = [
    {"type": "artifact", "id": "raw", "kind": "data"},
    {"type": "artifact", "id": "clean", "kind": "data"},
    {"type": "artifact", "id": "out1", "kind": "data"},
    {"type": "artifact", "id": "out2", "kind": "data"},
    {"type": "artifact", "id": "code", "kind": "code"},
    {"type": "artifact", "id": "model", "kind": "weights"},
    {"type": "artifact", "id": "teacher", "kind": "weights"},
    {"type": "grant", "key": "0aec7dd9ab13f060ec27a3c8e154282404285db28241088b1ee83eaa9ea5b485", "role": "appender"},
]


def custody(binary, *args, stdin=None):
    return subprocess.run(
        [str(binary), *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    binary = Path(argv[0])
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    cases = [json.loads(line) for line in LINES.read_text().splitlines() if line.strip()]

    failures = 0
    with tempfile.TemporaryDirectory(prefix="custody-schema-") as tmp:
        tmp = Path(tmp)
        key = tmp / "key"
        base = tmp / "base"
        for args, stdin in (
            (("keygen", "--out", key), None),
            (("init", base, "--key", key, "--name", "schema check"), None),
            (("append", base, "--key", key), "".join(json.dumps(e) + "\n" for e in SETUP)),
        ):
            r = custody(binary, *args, stdin=stdin)
            if r.returncode != 0:
                print(f"setup failed: custody {args[0]}: {r.stderr.strip()}", file=sys.stderr)
                return 2

        for n, case in enumerate(cases, 1):
            text = case["text"] if "text" in case else json.dumps(case["event"])
            value = json.loads(text)
            errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
            schema_ok = not errors
            want_append = case.get("append", case["valid"])

            ledger = tmp / f"case-{n}"
            shutil.copytree(base, ledger)
            r = custody(binary, "append", ledger, "--key", key, stdin=text + "\n")
            shutil.rmtree(ledger)
            if r.returncode not in (0, 2):
                append_ok = None
            else:
                append_ok = r.returncode == 0

            problems = []
            if schema_ok != case["valid"]:
                detail = errors[0].message if errors else "no error"
                problems.append(f"schema says {'valid' if schema_ok else 'invalid'} ({detail})")
            if append_ok is None:
                problems.append(f"append exited {r.returncode}: {r.stderr.strip()}")
            elif append_ok != want_append:
                said = "accepted" if append_ok else f"refused ({r.stderr.strip().splitlines()[0]})"
                problems.append(f"append {said}")
            verdict = ("valid" if case["valid"] else "invalid") + (
                "" if want_append == case["valid"] else f", append {'accepts' if want_append else 'refuses'}"
            )
            if problems:
                failures += 1
                print(f"FAIL  {n:3} {case['why']} [{verdict}]: " + "; ".join(problems))
            else:
                said = f": {r.stderr.strip().splitlines()[0]}" if r.returncode == 2 else ""
                print(f"ok    {n:3} {case['why']} [{verdict}]{said}")

    print(f"{len(cases) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
