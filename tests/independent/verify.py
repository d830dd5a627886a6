#!/usr/bin/env python3
"""An independent verifier for custody ledgers, written from schemas/FORMAT.md.

Usage:
    verify.py DIR                 verify every DIR/*.ledger against DIR/*.expect.json
    verify.py [--owner HEX] FILE  verify one exported ledger, print a JSON verdict

With a directory it prints one line per vector and exits 1 if any verdict
differs from the expectation (valid, seq, reason, entries, and head for valid
ledgers). With a file it prints an object shaped like `custody verify --json`
and exits 0 when valid, 1 when invalid.

Section numbers (§) refer to schemas/FORMAT.md. Needs cbor2 and PyNaCl.
"""

import hashlib
import json
import struct
import sys
from pathlib import Path

import cbor2
import nacl.exceptions
import nacl.signing

# §3, §6
MAX_ENTRY = 65536
HASH_DOMAIN = b"custody/v1/entry-hash\x00"
SIGNATURE_DOMAIN = b"custody/v1/entry-signature\x00"
BODY_KEYS = ("v", "seq", "prev", "time", "event", "ledger", "signer")
# §4
MAX_NESTING = 48
# §7
MAX_EVENT_DEPTH = 16
U64 = 2**64


class Reject(Exception):
    """The entry being checked fails with a reason code of §10."""

    def __init__(self, code, detail=""):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def entry_hash(entry):
    return hashlib.sha256(HASH_DOMAIN + entry).digest()


# ---------------------------------------------------------------- §2 framing


def frames(data):
    """Yields each entry's bytes; raises Reject at the first framing failure."""
    pos = 0
    while pos < len(data):
        start = pos
        if data[pos] != 0x82:
            raise Reject("malformed", "entry does not start with 0x82")
        pos += 1
        for _ in ("body", "signature"):
            if pos >= len(data):
                raise Reject("malformed", "truncated entry head")
            head = data[pos]
            pos += 1
            if head >> 5 != 2:
                raise Reject("malformed", "element is not a byte string")
            ai = head & 0x1F
            if ai >= 28:
                raise Reject("malformed", "indefinite or reserved length")
            extra = {24: 1, 25: 2, 26: 4, 27: 8}.get(ai, 0)
            if pos + extra > len(data):
                raise Reject("malformed", "truncated length")
            length = int.from_bytes(data[pos : pos + extra], "big") if extra else ai
            pos += extra
            if (pos - start) + length > MAX_ENTRY:
                raise Reject("too-large", f"element of {length} bytes")
            if pos + length > len(data):
                raise Reject("malformed", "truncated element")
            pos += length
        yield data[start:pos]


# ------------------------------------------------------ §4 deterministic CBOR


class _Walk:
    """Checks one CBOR item on the bytes, in the order of §4: rule 1
    (well-formedness and nesting) raises at once; tags (rule 2), invalid
    UTF-8 and unassigned simple values (rule 3) and non-canonical forms
    (rule 4) are noted, and decided in that order once the whole item has
    been walked."""

    def __init__(self, data):
        self.d = data
        self.tag = False
        self.invalid = None
        self.noncanonical = None

    def bad(self, msg):
        raise Reject("malformed", msg)

    def nc(self, msg):
        if self.noncanonical is None:
            self.noncanonical = msg

    def take(self, pos, n):
        if pos + n > len(self.d):
            self.bad("unexpected end of data")
        return self.d[pos : pos + n], pos + n

    def head(self, pos):
        """Returns (major, ai, argument or None for an indefinite length,
        position after)."""
        b, pos = self.take(pos, 1)
        major, ai = b[0] >> 5, b[0] & 0x1F
        if ai < 24:
            return major, ai, ai, pos
        if ai <= 27:
            raw, pos = self.take(pos, 1 << (ai - 24))
            arg = int.from_bytes(raw, "big")
            if major == 7:
                if ai == 24 and arg < 32:
                    self.bad("simple value below 32 in two bytes")
            else:
                shortest = (
                    arg if arg < 24 else 24 if arg < 2**8 else 25 if arg < 2**16 else 26 if arg < 2**32 else 27
                )
                if ai != shortest:
                    self.nc("argument not in its shortest form")
            return major, ai, arg, pos
        if ai == 31:
            if major in (2, 3, 4, 5):
                return major, ai, None, pos
            if major == 7:
                self.bad("break where no indefinite-length item is open")
            self.bad("additional information 31 on major type %d" % major)
        self.bad("reserved additional information")

    def text(self, raw):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            if self.invalid is None:
                self.invalid = "text is not UTF-8"

    def is_break(self, pos):
        if pos >= len(self.d):
            self.bad("unexpected end of data")
        return self.d[pos] == 0xFF

    def item(self, pos, level):
        """Walks the item at pos, which stands at `level` (the outermost
        item is level 1)."""
        start = pos
        major, ai, arg, pos = self.head(pos)
        if major in (0, 1):
            return pos
        if major in (2, 3):
            if arg is not None:
                raw, pos = self.take(pos, arg)
                if major == 3:
                    self.text(raw)
                return pos
            self.nc("indefinite-length string")
            while not self.is_break(pos):
                m, _, length, pos = self.head(pos)
                if m != major or length is None:
                    self.bad("chunk of an indefinite-length string that is not a definite string of its type")
                raw, pos = self.take(pos, length)
                if major == 3:
                    self.text(raw)
            return pos + 1
        if major in (4, 5, 6):
            if level > MAX_NESTING:
                self.bad("nested too deeply")
            if major == 6:
                self.tag = True
                return self.item(pos, level + 1)
            per = 2 if major == 5 else 1
            if arg is None:
                self.nc("indefinite-length container")
            elif arg * per > len(self.d) - pos:
                self.bad("more items declared than bytes left")
            count = 0
            prev_key = None
            while True:
                if arg is None:
                    if self.is_break(pos):
                        if major == 5 and count % 2:
                            self.bad("map ends after a key")
                        return pos + 1
                elif count == arg * per:
                    return pos
                item_start = pos
                pos = self.item(pos, level + 1)
                if major == 5 and count % 2 == 0:
                    key = self.d[item_start:pos]
                    if prev_key is not None and key <= prev_key:
                        self.nc("map keys out of order or repeated")
                    prev_key = key
                count += 1
        # major 7; a break was refused in head()
        if ai <= 24:
            if arg in (20, 21, 22):
                return pos
            if arg == 23:
                self.nc("undefined")
                return pos
            if self.invalid is None:
                self.invalid = "unassigned simple value"
            return pos
        self.float(ai, self.d[start + 1 : pos])
        return pos

    def float(self, ai, raw):
        fmt = {25: ">e", 26: ">f", 27: ">d"}[ai]
        (value,) = struct.unpack(fmt, raw)
        if value != value or value in (float("inf"), float("-inf")):
            self.nc("NaN or infinite float")
            return
        for width, f in ((25, ">e"), (26, ">f"), (27, ">d")):
            try:
                if struct.unpack(f, struct.pack(f, value))[0] == value:
                    break
            except (OverflowError, struct.error):
                continue
        if width != ai:
            self.nc("float not in its shortest exact form")


def decode_canonical(data):
    """§4: returns the value of the single deterministic CBOR item filling
    `data`, or raises Reject(malformed | non-canonical)."""
    w = _Walk(data)
    end = w.item(0, 1)
    if end != len(data):
        raise Reject("malformed", f"{len(data) - end} trailing byte(s)")
    if w.tag:
        raise Reject("non-canonical", "a tag")
    if w.invalid:
        raise Reject("malformed", w.invalid)
    if w.noncanonical:
        raise Reject("non-canonical", w.noncanonical)
    # No tags, no undefined, no unassigned simple values: cbor2 has nothing
    # to interpret.
    return cbor2.loads(data)


# ---------------------------------------------------------------- §5 body


def is_uint(x):
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x < U64


def parse_body(value):
    if not isinstance(value, dict):
        raise Reject("bad-body", "body is not a map")
    for k in value:
        if not isinstance(k, str):
            raise Reject("bad-body", "body key is not text")
        if k not in BODY_KEYS:
            raise Reject("bad-body", f"unknown body key {k!r}")
    for k in BODY_KEYS:
        if k not in value:
            raise Reject("bad-body", f"body lacks {k!r}")
    for k in ("v", "seq", "time"):
        if not is_uint(value[k]):
            raise Reject("bad-body", f"{k} is not a uint")
    for k in ("prev", "ledger"):
        x = value[k]
        if not (x is None or (isinstance(x, bytes) and len(x) == 32)):
            raise Reject("bad-body", f"{k} is not 32 bytes or null")
    if not (isinstance(value["signer"], bytes) and len(value["signer"]) == 32):
        raise Reject("bad-body", "signer is not 32 bytes")
    if not isinstance(value["event"], dict):
        raise Reject("bad-body", "event is not a map")
    if value["v"] != 1:
        raise Reject("unsupported-version", f"v = {value['v']}")
    return value


# ---------------------------------------------------------------- §7 events

COMPONENT_KIND = {
    "pretraining-code": "code",
    "finetuning-code": "code",
    "alignment-code": "code",
    "eval-code": "code",
    "safety-eval-code": "code",
    "inference-code": "code",
    "pretraining-data": "data",
    "sft-data": "data",
    "alignment-data": "data",
    "benchmark-data": "data",
    "safety-eval-data": "data",
    "weights": "weights",
}
TERMS = ("research", "commercial", "modify", "copyright_derivative", "other_license_derivative")
HEX = set("0123456789abcdef")


def json_model(x):
    """§7: the event must hold JSON-compatible values only."""
    if x is None or isinstance(x, (bool, str, float)):
        return
    if isinstance(x, int):
        if not -(2**63) <= x < U64:
            raise Reject("bad-event", "integer beyond 64 bits")
        return
    if isinstance(x, list):
        for y in x:
            json_model(y)
        return
    if isinstance(x, dict):
        for k, y in x.items():
            if not isinstance(k, str):
                raise Reject("bad-event", "map key is not text")
            json_model(y)
        return
    raise Reject("bad-event", f"{type(x).__name__} has no JSON form")


def depth(x):
    kids = list(x.values()) if isinstance(x, dict) else x if isinstance(x, list) else []
    return 1 + max(map(depth, kids)) if kids else 0


def fail(field, msg):
    raise Reject("bad-event", f"{field}: {msg}")


def string(x, field):
    if not isinstance(x, str):
        fail(field, "not a string")
    return x


def nonempty(x, field):
    if string(x, field) == "":
        fail(field, "empty")
    return x


def one_of(*names):
    def check(x, field):
        if string(x, field) not in names:
            fail(field, f"not one of {names}")
        return x

    return check


def uint(x, field):
    if not is_uint(x):
        fail(field, "not an unsigned integer")
    return x


def obj(x, field):
    if not isinstance(x, dict):
        fail(field, "not an object")
    return x


def false_only(x, field):
    if x is not False:
        fail(field, "must be false")
    return x


def digest(x, field):
    s = string(x, field)
    if not (s.startswith("sha256:") and len(s) == 71 and set(s[7:]) <= HEX):
        fail(field, "not sha256: and 64 lowercase hex digits")
    return s


# Curve25519 field and the Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 (§6.3, §7).
P = 2**255 - 19
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def decompress(b):
    """§6.3 step 1: the point (x, y) 32 bytes encode, y reduced mod p; None
    when there is none."""
    y = int.from_bytes(b, "little") & ((1 << 255) - 1)
    y %= P
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x2 = u * pow(v, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    return (-x % P, y) if b[31] >> 7 else (x, y)


def double(pt):
    x, y = pt
    t = D * x * x * y * y % P
    return (2 * x * y * pow(1 + t, P - 2, P) % P, (y * y + x * x) * pow(1 - t, P - 2, P) % P)


def usable_key(b):
    """§7: a curve point (y >= p accepted) that is not of small order,
    as ed25519-dalek's VerifyingKey::from_bytes and is_weak judge it.
    libsodium's crypto_core_ed25519_is_valid_point also refuses
    non-canonical and mixed-order points (FORMAT.md §14), so it is not used."""
    pt = decompress(b)
    if pt is None:
        return False
    for _ in range(3):
        pt = double(pt)
    return pt != (0, 1)


def key(x, field):
    s = string(x, field)
    if not (len(s) == 64 and set(s) <= HEX):
        fail(field, "not 64 lowercase hex digits")
    b = bytes.fromhex(s)
    if not usable_key(b):
        fail(field, "not a usable Ed25519 public key (not a curve point, or of small order)")
    return b


def id_list(x, field):
    if not isinstance(x, list) or not x:
        fail(field, "not a non-empty list")
    seen = []
    for i, s in enumerate(x):
        nonempty(s, f"{field}[{i}]")
        if s in seen:
            fail(field, f"{s!r} listed twice")
        seen.append(s)
    return x


def spdx(s, field):
    """§7 SPDX expression."""

    def bad(msg):
        fail(field, msg)

    if len(s.encode()) > 1024:
        bad("too long")
    tokens, cur = [], ""
    for c in s:
        if c in "() ":
            if cur:
                tokens.append(cur)
                cur = ""
            if c != " ":
                tokens.append(c)
        elif (c.isascii() and c.isalnum()) or c in ".-+":
            cur += c
        else:
            bad(f"character {c!r}")
    if cur:
        tokens.append(cur)
    if not tokens:
        bad("empty expression")
    pos = [0]
    nest = [0]

    def peek():
        return tokens[pos[0]] if pos[0] < len(tokens) else None

    def ident():
        t = peek()
        if t is None or t in ("(", ")", "AND", "OR", "WITH"):
            bad(f"expected an id, found {t!r}")
        if t.lower() in ("and", "or", "with"):
            bad("operators must be upper case")
        pos[0] += 1
        return t

    def with_():
        if peek() == "(":
            nest[0] += 1
            if nest[0] > 32:
                bad("nested too deeply")
            pos[0] += 1
            expr()
            if peek() != ")":
                bad("unbalanced parentheses")
            pos[0] += 1
            nest[0] -= 1
            return
        lid = ident()
        if lid.endswith("+"):
            lid = lid[:-1]
        if not lid or "+" in lid:
            bad(f"{lid!r} is not a license id")
        if peek() == "WITH":
            pos[0] += 1
            if "+" in ident():
                bad("an exception id cannot hold '+'")

    def and_():
        with_()
        while peek() == "AND":
            pos[0] += 1
            with_()

    def expr():
        and_()
        while peek() == "OR":
            pos[0] += 1
            and_()

    expr()
    if pos[0] != len(tokens):
        bad(f"unexpected {tokens[pos[0]]!r}")


def license_(x, field):
    if isinstance(x, str):
        spdx(x, field)
        return x
    if not isinstance(x, dict):
        fail(field, "neither an SPDX expression nor an inline license")
    if set(x) != {"name", "terms"}:
        fail(field, "inline license needs exactly name and terms")
    nonempty(x["name"], f"{field}.name")
    terms = x["terms"]
    if not isinstance(terms, dict) or set(terms) != set(TERMS):
        fail(f"{field}.terms", f"needs exactly {TERMS}")
    for t in TERMS:
        if not isinstance(terms[t], bool):
            fail(f"{field}.terms.{t}", "not a boolean")
    return x


# type -> {field: (check, required)}; `type` and `note` are common to all.
EVENTS = {
    "genesis": {"name": (nonempty, True)},
    "artifact": {
        "id": (nonempty, True),
        "kind": (one_of("code", "data", "weights"), True),
        "digest": (digest, False),
        "uri": (string, False),
        "size": (uint, False),
        "description": (string, False),
    },
    "custody": {"artifact": (nonempty, True), "from": (nonempty, True), "to": (nonempty, True)},
    "transformation": {
        "operation": (nonempty, True),
        "inputs": (id_list, True),
        "outputs": (id_list, True),
        "tool": (string, False),
        "parameters": (obj, False),
    },
    "augmentation": {
        "method": (nonempty, True),
        "inputs": (id_list, True),
        "outputs": (id_list, True),
        "generator": (nonempty, False),
        "parameters": (obj, False),
    },
    "license": {"artifact": (nonempty, True), "license": (license_, True)},
    "release": {"artifact": (nonempty, True), "access": (one_of("none", "paid-api", "public"), True)},
    "component": {
        "component": (one_of(*COMPONENT_KIND), True),
        "artifacts": (id_list, False),
        "applicable": (false_only, False),
    },
    "grant": {"key": (key, True), "role": (one_of("appender", "owner"), True)},
    "revoke": {"key": (key, True)},
}


def check_event(ev):
    json_model(ev)
    if depth(ev) > MAX_EVENT_DEPTH:
        raise Reject("bad-event", "nested more than 16 deep")
    ty = string(ev.get("type"), "type") if "type" in ev else fail("type", "missing")
    if ty not in EVENTS:
        fail("type", f"unknown type {ty!r}")
    spec = EVENTS[ty]
    if "note" in ev:
        string(ev["note"], "note")
    for k in ev:
        if k not in spec and k not in ("type", "note"):
            fail(k, "unknown field")
    for field, (check, required) in spec.items():
        if field in ev:
            check(ev[field], field)
        elif required:
            fail(field, "missing")
    if ty == "component" and ("artifacts" in ev) == ("applicable" in ev):
        fail("component", "give exactly one of artifacts and applicable: false")
    return ty


# ---------------------------------------------------------------- §6.3


def signature_ok(signer, body, signature):
    # libsodium; see FORMAT.md §14 for how it relates to verify_strict.
    try:
        nacl.signing.VerifyKey(signer).verify(SIGNATURE_DOMAIN + body, signature)
        return True
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        return False


# ---------------------------------------------------------------- §8 rules


class Ledger:
    def __init__(self):
        self.roles = {}  # key -> "owner" | "appender" | "revoked"
        self.artifacts = {}  # id -> {"kind", "produced", "parents"}
        self.components = {}  # name -> "n/a" | set of ids

    def owners(self):
        return sum(1 for r in self.roles.values() if r == "owner")

    def declared(self, ident):
        if ident not in self.artifacts:
            raise Reject("rule-violation", f"unknown artifact {ident!r}")
        return self.artifacts[ident]

    def ancestors(self, ids):
        seen, stack = set(), list(ids)
        while stack:
            a = stack.pop()
            if a not in seen:
                seen.add(a)
                stack.extend(self.artifacts[a]["parents"])
        return seen

    def genesis(self, signer):
        self.roles[signer] = "owner"

    def apply(self, signer, ev):
        role = self.roles.get(signer)
        if role is None:
            raise Reject("unauthorized", "signer holds no role")
        if role == "revoked":
            raise Reject("revoked", "signer was revoked")
        ty = ev["type"]
        if ty in ("grant", "revoke"):
            if role != "owner":
                raise Reject("unauthorized", f"an appender may not {ty}")
            target = bytes.fromhex(ev["key"])
            current = self.roles.get(target)
            last_owner = current == "owner" and self.owners() == 1
            if ty == "grant":
                if last_owner and ev["role"] != "owner":
                    raise Reject("rule-violation", "would leave no owner")
                self.roles[target] = ev["role"]
            else:
                if last_owner:
                    raise Reject("rule-violation", "cannot revoke the last owner")
                if current not in ("owner", "appender"):
                    raise Reject("rule-violation", "key holds no role")
                self.roles[target] = "revoked"
        elif ty == "artifact":
            if ev["id"] in self.artifacts:
                raise Reject("rule-violation", f"{ev['id']!r} declared twice")
            self.artifacts[ev["id"]] = {"kind": ev["kind"], "produced": False, "parents": []}
        elif ty in ("custody", "license", "release"):
            self.declared(ev["artifact"])
        elif ty in ("transformation", "augmentation"):
            parents = list(ev["inputs"])
            for i in parents:
                self.declared(i)
            if "generator" in ev:
                if self.declared(ev["generator"])["kind"] != "weights":
                    raise Reject("rule-violation", "generator is not weights")
                if ev["generator"] not in parents:
                    parents.append(ev["generator"])
            for o in ev["outputs"]:
                if self.declared(o)["produced"]:
                    raise Reject("rule-violation", f"{o!r} produced twice")
                if o in parents:
                    raise Reject("rule-violation", f"{o!r} derived from itself")
            above = self.ancestors(parents)
            for o in ev["outputs"]:
                if o in above:
                    raise Reject("rule-violation", f"lineage cycle through {o!r}")
            for o in ev["outputs"]:
                self.artifacts[o].update(produced=True, parents=parents)
        elif ty == "component":
            name = ev["component"]
            now = self.components.get(name)
            if "applicable" in ev:
                if isinstance(now, set):
                    raise Reject("rule-violation", f"{name} already has artifacts")
                self.components[name] = "n/a"
            else:
                if now == "n/a":
                    raise Reject("rule-violation", f"{name} was declared not applicable")
                for a in ev["artifacts"]:
                    if self.declared(a)["kind"] != COMPONENT_KIND[name]:
                        raise Reject("rule-violation", f"{a!r} is the wrong kind for {name}")
                self.components[name] = (now or set()) | set(ev["artifacts"])


# ---------------------------------------------------------------- §9


def verify(data, owner=None):
    """Returns the verdict as `custody verify --json` prints it (without
    `detail` being comparable)."""
    ledger = Ledger()
    n, head, ledger_id, genesis_signer, name = 0, None, None, None, None

    def invalid(code, detail):
        return {
            "valid": False,
            "entries": n,
            "head": head.hex() if head else None,
            "owner": genesis_signer.hex() if genesis_signer else None,
            # §11: pinned once entry 0 has verified against the given owner.
            "pinned": owner is not None and genesis_signer is not None,
            "error": {"seq": n, "reason": code, "detail": detail},
        }

    it = frames(data)
    while True:
        try:
            try:
                entry = next(it)
            except StopIteration:
                break
            # §9.2
            if len(entry) > MAX_ENTRY:
                raise Reject("too-large", f"{len(entry)} bytes")
            outer = decode_canonical(entry)
            if not (
                isinstance(outer, list)
                and len(outer) == 2
                and all(isinstance(x, bytes) for x in outer)
            ):
                raise Reject("malformed", "entry is not [bytes, bytes]")
            body_bytes, signature = outer
            if len(signature) != 64:
                raise Reject("malformed", "signature is not 64 bytes")
            body = parse_body(decode_canonical(body_bytes))
            ty = check_event(body["event"])
            # §9.3
            if body["seq"] != n:
                raise Reject("bad-sequence", f"seq {body['seq']} at position {n}")
            if n == 0:
                if body["prev"] is not None or body["ledger"] is not None:
                    raise Reject("bad-genesis", "prev/ledger not null")
                if ty != "genesis":
                    raise Reject("bad-genesis", "first entry is not genesis")
            else:
                if body["ledger"] != ledger_id:
                    raise Reject("bad-ledger-id", "another ledger's id")
                if body["prev"] != head:
                    raise Reject("bad-prev", "prev is not the previous hash")
                if ty == "genesis":
                    raise Reject("bad-genesis", "genesis after entry 0")
            # §9.4
            if not signature_ok(body["signer"], body_bytes, signature):
                raise Reject("bad-signature", "signature does not verify")
            # §9.5, §9.6
            if n == 0:
                if owner is not None and owner != body["signer"]:
                    raise Reject("owner-mismatch", "genesis key is not the pinned key")
                ledger.genesis(body["signer"])
            else:
                ledger.apply(body["signer"], body["event"])
        except Reject as r:
            return invalid(r.code, r.detail)
        h = entry_hash(entry)
        if n == 0:
            ledger_id, genesis_signer, name = h, body["signer"], body["event"]["name"]
        head = h
        n += 1
    if n == 0:
        return invalid("empty", "the ledger has no entries")
    return {
        "valid": True,
        "name": name,
        "ledger": ledger_id.hex(),
        "entries": n,
        "head": head.hex(),
        "owner": genesis_signer.hex(),
        "pinned": owner is not None,
        # A whole ledger withholds nothing (partial exports: TRANSPARENCY.md).
        "withheld": 0,
    }


# ---------------------------------------------------------------- driver


def compare(verdict, expect):
    """Differences between a verdict and an *.expect.json object."""
    got = {"valid": verdict["valid"], "entries": verdict["entries"]}
    if verdict["valid"]:
        got["head"] = verdict["head"]
    else:
        got["seq"] = verdict["error"]["seq"]
        got["reason"] = verdict["error"]["reason"]
    want = {k: v for k, v in expect.items() if k != "description"}
    return [f"{k}: expected {want.get(k)!r}, got {got.get(k)!r}" for k in sorted(set(got) | set(want)) if got.get(k) != want.get(k)]


def run_vectors(directory):
    ledgers = sorted(directory.glob("*.ledger"))
    if not ledgers:
        print(f"no *.ledger files in {directory}", file=sys.stderr)
        return 2
    bad = 0
    for path in ledgers:
        name = path.name[: -len(".ledger")]
        expect_path = path.with_name(name + ".expect.json")
        if not expect_path.exists():
            print(f"FAIL  {name}: no {expect_path.name}")
            bad += 1
            continue
        verdict = verify(path.read_bytes())
        diffs = compare(verdict, json.loads(expect_path.read_text()))
        if verdict["valid"]:
            summary = f"valid, {verdict['entries']} entries, head {verdict['head'][:16]}"
        else:
            e = verdict["error"]
            summary = f"invalid at {e['seq']}: {e['reason']} ({e['detail']})"
        if diffs:
            bad += 1
            print(f"FAIL  {name}: {summary}; " + "; ".join(diffs))
        else:
            print(f"ok    {name}: {summary}")
    print(f"{len(ledgers) - bad} passed, {bad} failed")
    return 1 if bad else 0


def main(argv):
    owner = None
    if len(argv) >= 2 and argv[0] == "--owner":
        owner = bytes.fromhex(argv[1])
        argv = argv[2:]
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    target = Path(argv[0])
    if target.is_dir():
        return run_vectors(target)
    verdict = verify(target.read_bytes(), owner)
    print(json.dumps(verdict, sort_keys=True))
    return 0 if verdict["valid"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
