#!/usr/bin/env python3
"""Checks schemas/event.schema.json against `custody append`, and how JSON
numbers become CBOR (tests/vectors/numbers.json).

Usage: check_schema.py PATH/TO/custody

Each line of event-lines.jsonl (beside this script) is an object:

    valid   the verdict event.schema.json must give
    append  (optional) whether `custody append` accepts the line, when that
            differs from `valid`: the line fails only on something a schema
            cannot express (ledger rules, SPDX grammar, nesting depth, JSON
            text details, keys that are no usable Ed25519 key, license ids
            outside the license registry, inline license names resembling a
            registry license); absent, append must agree with `valid`.
            License ids of lines append must accept are in
            schemas/licenses.json.
    why     what the line exercises
    event   the event (sent as json.dumps of it), or
    text    the exact line to send

Every line is validated against the schema, and every line is appended
alone, as the only line of a batch, to its own copy of a scratch ledger
whose artifacts (and one appender key) the lines refer to are already
declared. `custody append` must exit 0 when it accepts and 2 when it
refuses.

Then each case of tests/vectors/numbers.json: the number, read as JSON by
Python (integers exactly, within 64 bits and not `-0`; other numbers as the
correctly rounded double, finite) and encoded by the deterministic CBOR
encoder below (FORMAT.md section 4), must give the listed CBOR, or be
refused when the case lists an error; and `custody append` must store
exactly that CBOR as a `parameters` value (read back with `custody log
--seq`), or refuse the line.

Prints one line per case and exits 1 on any disagreement. Needs jsonschema.
"""

import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema

HERE = Path(__file__).resolve().parent
SCHEMA = HERE.parent.parent / "schemas" / "event.schema.json"
LINES = HERE / "event-lines.jsonl"
NUMBERS = HERE.parent / "vectors" / "numbers.json"

# What the lines may refer to: declared artifacts of each kind, and a key
# holding the appender role (so that revoking it, or handing an artifact to
# it, is valid). Keys in grant, revoke and custody events must be usable
# Ed25519 public keys (FORMAT.md section 7), so these are real ones, made
# with `custody keygen` (their private halves were not kept). The lines also
# use a second one, never granted here:
# 8abf459d39acc1115f3a9c7d603906b70dee74ea798bd066487e1e22f078f3fe.
# The scratch ledger's owner signs everything, so it has authority over
# every artifact; lineage must follow declaration order (section 8), so
# sources and generators are declared before what is derived from them,
# except `late-teacher`.
SETUP = [
    {"type": "artifact", "id": "code", "kind": "code"},
    {"type": "artifact", "id": "model", "kind": "weights"},
    {"type": "artifact", "id": "teacher", "kind": "weights"},
    {"type": "artifact", "id": "raw", "kind": "data"},
    {"type": "artifact", "id": "clean", "kind": "data"},
    {"type": "artifact", "id": "out1", "kind": "data"},
    {"type": "artifact", "id": "out2", "kind": "data"},
    {"type": "artifact", "id": "late-teacher", "kind": "weights"},
    {"type": "grant", "key": "0aec7dd9ab13f060ec27a3c8e154282404285db28241088b1ee83eaa9ea5b485", "role": "appender"},
]
# Entries in the scratch ledger: its genesis and SETUP.
BASE_ENTRIES = 1 + len(SETUP)


# ------------------------------------------------------------ numbers


class Refused(Exception):
    pass


def json_number(text):
    """What custody append makes of a JSON number (FORMAT.md section 14):
    an integer literal stays an integer, within 64 bits and not -0; any
    other number is the nearest double (Python's float() rounds correctly),
    and must be finite."""

    def parse_int(s):
        if s == "-0":
            raise Refused("negative zero integer")
        v = int(s)
        if not -(2**63) <= v < 2**64:
            raise Refused("integer beyond 64 bits")
        return v

    def parse_float(s):
        v = float(s)
        if math.isinf(v):
            raise Refused("beyond the double range")
        return v

    def parse_constant(s):
        raise Refused(f"{s} is not a JSON number")

    return json.loads(text, parse_int=parse_int, parse_float=parse_float, parse_constant=parse_constant)


def head(major, n):
    """The shortest head for an argument (FORMAT.md section 4)."""
    if n < 24:
        return bytes([major << 5 | n])
    for ai, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * width):
            return bytes([major << 5 | ai]) + n.to_bytes(width, "big")
    raise ValueError(n)


def encode(v):
    """Deterministic CBOR (FORMAT.md section 4) of a JSON value."""
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise Refused("NaN or infinity")
        # The shortest of half, single and double that holds v exactly.
        for code, fmt in ((0xF9, ">e"), (0xFA, ">f"), (0xFB, ">d")):
            try:
                b = struct.pack(fmt, v)
            except OverflowError:
                continue
            if struct.unpack(fmt, b)[0] == v:
                return bytes([code]) + b
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(map(encode, v))
    if isinstance(v, dict):
        # Keys sorted by their encoded bytes, bytewise.
        items = sorted((encode(k), encode(x)) for k, x in v.items())
        return head(5, len(items)) + b"".join(k + x for k, x in items)
    raise TypeError(v)


def check_numbers(binary, key, base, tmp):
    """numbers.json: Python's CBOR, and what custody append stores."""
    cases = json.loads(NUMBERS.read_text())["cases"]
    failures = 0
    for n, case in enumerate(cases, 1):
        number = case["number"]
        try:
            got = encode(json_number(number)).hex()
        except Refused as e:
            got = f"refused: {e}"
        want = case["cbor"] if "cbor" in case else f"refused: {case['error']}"
        problems = [] if got == want else [f"Python gives {got}"]

        ledger = tmp / f"number-{n}"
        shutil.copytree(base, ledger)
        line = '{"type": "transformation", "operation": "x", "inputs": ["raw"], "outputs": ["out1"], "parameters": {"n": %s}}' % number
        r = custody(binary, "append", ledger, "--key", key, stdin=line + "\n")
        if r.returncode == 0 and "cbor" in case:
            out = tmp / f"number-{n}.entry"
            custody(binary, "log", ledger, "--seq", BASE_ENTRIES, "--out", out)
            stored = out.read_bytes() if out.exists() else b""
            # parameters: {"n": value}, in the signed body as deterministic CBOR.
            if encode("parameters") + b"\xa1" + encode("n") + bytes.fromhex(case["cbor"]) not in stored:
                problems.append("append stores other bytes")
        elif r.returncode == 0:
            problems.append("append accepts it")
        elif r.returncode != 2 or "cbor" in case:
            problems.append(f"append exited {r.returncode}: {r.stderr.strip()}")
        shutil.rmtree(ledger)
        if problems:
            failures += 1
            print(f"FAIL  number {number}: expected {want}; " + "; ".join(problems))
        else:
            print(f"ok    number {number}: {want}")
    return len(cases), failures


STATE = {"root": None, "calls": 0}


def custody(binary, *args, stdin=None):
    # Each call gets an empty state directory of its own (under the scratch
    # directory, not the user's): custody keeps per key a high-water mark
    # of each ledger it built on (FORMAT.md section 12), and every case
    # appends with one key to its own copy of the same scratch ledger, which
    # it would otherwise take for a rolled-back copy.
    env = dict(os.environ)
    if STATE["root"] is not None:
        STATE["calls"] += 1
        env["CUSTODY_STATE_DIR"] = str(STATE["root"] / f"state-{STATE['calls']}")
    return subprocess.run(
        [str(binary), *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
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
        STATE["root"] = tmp
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

        numbers, number_failures = check_numbers(binary, key, base, tmp)

    total, failures = len(cases) + numbers, failures + number_failures
    print(f"{total - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
