#!/usr/bin/env python3
"""An independent verifier for custody ledgers, written from schemas/FORMAT.md
and schemas/TRANSPARENCY.md.

Usage:
    verify.py DIR
        verify every DIR/*.ledger against DIR/*.expect.json, and check
        DIR/tlog.json (default origins, signed notes, checkpoints against
        the ledgers beside it) when it is there
    verify.py [--owner HEX] [--checkpoint NOTE --vkey VKEY [--origin O]] FILE
        verify one exported ledger or partial export, print a JSON verdict

With a directory it prints one line per case and exits 1 if any verdict
differs from the expectation (valid, entries, and head and withheld for
valid ledgers, seq and reason for invalid ones). With a file it prints an
object shaped like `custody verify --json` and exits 0 when valid, 1 when
invalid, 2 when the checkpoint note does not verify with VKEY.

Section numbers (§) refer to schemas/FORMAT.md, "T§" to
schemas/TRANSPARENCY.md. Needs cbor2 and PyNaCl.
"""

import base64
import hashlib
import json
import re
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
VERSION = 2
BODY_KEYS = ("v", "seq", "prev", "time", "event", "roles", "ledger", "signer")
# §4
MAX_NESTING = 48
# §7
MAX_EVENT_DEPTH = 16
U64 = 2**64
# T§7
PARTIAL_FORMAT = "custody-partial/v2"
STATEMENT_DOMAIN = b"custody/v2/partial-export\x00"
MAP_DOMAIN = b"custody/v2/disclosure-map\x00"
HEADER_KEYS = {"format": str, "publisher": bytes, "signature": bytes, "statement": bytes, "checkpoint": str}
STATEMENT_KEYS = ("map", "root", "size", "origin", "selectors")


class Reject(Exception):
    """The entry (or item) being checked fails with a reason code of §10."""

    def __init__(self, code, detail=""):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class BadNote(Exception):
    """A signed note or verifier key that does not verify (T§2)."""


def sha256(data):
    return hashlib.sha256(data).digest()


def entry_hash(entry):
    return sha256(HASH_DOMAIN + entry)


# ---------------------------------------------------------------- §2 framing


def frame(data, pos):
    """Frames the entry starting at data[pos] (§2 steps 2-4); returns the
    position after it, or raises Reject at the first framing failure."""
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
        # Decided before the content is read (§2 step 3.3).
        if (pos - start) + length > MAX_ENTRY:
            raise Reject("too-large", f"element of {length} bytes")
        if pos + length > len(data):
            raise Reject("malformed", "truncated element")
        pos += length
    return pos


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
        item is level 1); returns the position after it."""
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

    def verdict(self):
        """Rules 2-4 once the item has been walked (rule 1 already passed)."""
        if self.tag:
            raise Reject("non-canonical", "a tag")
        if self.invalid:
            raise Reject("malformed", self.invalid)
        if self.noncanonical:
            raise Reject("non-canonical", self.noncanonical)


def decode_canonical(data):
    """§4: returns the value of the single deterministic CBOR item filling
    `data`, or raises Reject(malformed | non-canonical)."""
    w = _Walk(data)
    end = w.item(0, 1)
    if end != len(data):
        raise Reject("malformed", f"{len(data) - end} trailing byte(s)")
    w.verdict()
    # No tags, no undefined, no unassigned simple values: cbor2 has nothing
    # to interpret.
    return cbor2.loads(data)


# ---------------------------------------------------------------- §5 body


def is_uint(x):
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x < U64


def parse_body(value):
    # The version decides the schema, so it is read before anything else.
    if isinstance(value, dict) and "v" in value and is_uint(value["v"]) and value["v"] != VERSION:
        raise Reject("unsupported-version", f"v = {value['v']}")
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
    for k in ("v", "seq", "time", "roles"):
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
# §7 hidden characters, as inclusive code point ranges: control characters,
# line and paragraph separators, interlinear annotation, and every
# Default_Ignorable_Code_Point of Unicode 15.1.
HIDDEN = (
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x2028, 0x2029),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0xFFF9, 0xFFFB),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def hidden(c):
    o = ord(c)
    return any(lo <= o <= hi for lo, hi in HIDDEN)


def json_model(x):
    """§7: the event must hold JSON-compatible values only."""
    if x is None or isinstance(x, (bool, str, float)):
        return
    if isinstance(x, int):
        if not -(2**63) <= x < U64:
            raise Reject("bad-event", "integer beyond 64 bits")
        return
    if isinstance(x, (list, tuple)):
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


def free_text(x, field):
    """A string that may hold anything (`note`, `description`)."""
    if not isinstance(x, str):
        fail(field, "not a string")
    return x


def string(x, field):
    """Every other string field: no hidden characters, and at most 256
    bytes of UTF-8 (`uri`: 2048) (§7)."""
    free_text(x, field)
    limit = 2048 if field == "uri" else 256
    if len(x.encode()) > limit:
        fail(field, f"longer than {limit} bytes")
    for c in x:
        if hidden(c):
            fail(field, f"holds the hidden character U+{ord(c):04X}")
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


def literal(value):
    def check(x, field):
        if x is not value:
            fail(field, f"must be {json.dumps(value)}")
        return x

    return check


def digest(x, field):
    s = string(x, field)
    hexpart = s[7:] if s.startswith("sha256:") else s[16:] if s.startswith("sha256-manifest:") else None
    if hexpart is None or len(hexpart) != 64 or not set(hexpart) <= HEX:
        fail(field, "not sha256: or sha256-manifest: and 64 lowercase hex digits")
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
    seen = set()
    for i, s in enumerate(x):
        nonempty(s, f"{field}[{i}]")
        if s in seen:
            fail(field, f"{s!r} listed twice")
        seen.add(s)
    return x


def spdx(s, field):
    """§7 SPDX expression."""

    def bad(msg):
        fail(field, msg)

    if len(s.encode()) > 256:
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
        "description": (free_text, False),
    },
    "custody": {
        "artifact": (nonempty, True),
        "from": (nonempty, True),
        "to": (nonempty, True),
        "key": (key, False),
    },
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
        "applicable": (literal(False), False),
        "replace": (literal(True), False),
    },
    "grant": {"key": (key, True), "role": (one_of("appender", "owner"), True)},
    "revoke": {"key": (key, True)},
}
ROLE_EVENTS = ("genesis", "grant", "revoke")


def check_event(ev):
    json_model(ev)
    if depth(ev) > MAX_EVENT_DEPTH:
        raise Reject("bad-event", "nested more than 16 deep")
    ty = string(ev.get("type"), "type") if "type" in ev else fail("type", "missing")
    if ty not in EVENTS:
        fail("type", f"unknown type {ty!r}")
    spec = EVENTS[ty]
    if "note" in ev:
        free_text(ev["note"], "note")
    for k in ev:
        if k not in spec and k not in ("type", "note"):
            fail(k, "unknown field")
    for field, (check, required) in spec.items():
        if field in ev:
            check(ev[field], field)
        elif required:
            fail(field, "missing")
    if ty == "component":
        if ("artifacts" in ev) == ("applicable" in ev):
            fail("component", "give exactly one of artifacts and applicable: false")
        if "replace" in ev and "artifacts" not in ev:
            fail("replace", "only with artifacts")
    return ty


# ---------------------------------------------------------------- §6.3


def signature_ok(signer, message, signature):
    # libsodium; see FORMAT.md §14 for how it relates to verify_strict.
    try:
        nacl.signing.VerifyKey(signer).verify(message, signature)
        return True
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        return False


# ---------------------------------------------------------------- §8 rules


class Ledger:
    def __init__(self):
        self.roles = {}  # key bytes -> "owner" | "appender" | "revoked"
        # id -> {"kind", "declared" (position), "holder" (key bytes),
        #        "produced", "parents"}
        self.artifacts = {}
        self.components = {}  # name -> "n/a" | list of ids

    def owners(self):
        return sum(1 for r in self.roles.values() if r == "owner")

    def declared(self, ident):
        if ident not in self.artifacts:
            raise Reject("rule-violation", f"unknown artifact {ident!r}")
        return self.artifacts[ident]

    def authority(self, signer, role, ident):
        if role != "owner" and self.artifacts[ident]["holder"] != signer:
            raise Reject("no-authority", f"neither an owner nor the holder of {ident!r}")

    def genesis(self, signer):
        self.roles[signer] = "owner"

    def apply(self, signer, ev, n):
        """Applies the event of the entry at position n, or raises Reject
        with nothing changed."""
        role = self.roles.get(signer)
        if role is None:
            raise Reject("unauthorized", "signer holds no role")
        if role == "revoked":
            raise Reject("revoked", "signer was revoked")
        ty = ev["type"]
        if ty in ("grant", "revoke", "component") and role != "owner":
            raise Reject("unauthorized", f"an appender may not sign {ty}")
        if ty in ("grant", "revoke"):
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
            self.artifacts[ev["id"]] = {
                "kind": ev["kind"],
                "declared": n,
                "holder": signer,
                "produced": False,
                "parents": [],
            }
        elif ty == "custody":
            art = self.declared(ev["artifact"])
            self.authority(signer, role, ev["artifact"])
            if "key" in ev:
                new = bytes.fromhex(ev["key"])
                if self.roles.get(new) not in ("owner", "appender"):
                    raise Reject("rule-violation", "the new holder's key holds no role")
                art["holder"] = new
        elif ty in ("license", "release"):
            self.declared(ev["artifact"])
            self.authority(signer, role, ev["artifact"])
        elif ty in ("transformation", "augmentation"):
            parents = []
            for i in ev["inputs"]:
                self.declared(i)
                parents.append(i)
            if "generator" in ev:
                if self.declared(ev["generator"])["kind"] != "weights":
                    raise Reject("rule-violation", "generator is not weights")
                if ev["generator"] not in parents:
                    parents.append(ev["generator"])
            for o in ev["outputs"]:
                out = self.declared(o)
                self.authority(signer, role, o)
                if out["produced"]:
                    raise Reject("rule-violation", f"{o!r} produced twice")
                for p in parents:
                    if p == o:
                        raise Reject("rule-violation", f"{o!r} derived from itself")
                    # Lineage follows declaration order, so it cannot cycle.
                    if self.artifacts[p]["declared"] >= out["declared"]:
                        raise Reject("rule-violation", f"parent {p!r} declared after output {o!r}")
            for o in ev["outputs"]:
                self.artifacts[o].update(produced=True, parents=parents)
        elif ty == "component":
            name = ev["component"]
            for a in ev.get("artifacts", []):
                if self.declared(a)["kind"] != COMPONENT_KIND[name]:
                    raise Reject("rule-violation", f"{a!r} is the wrong kind for {name}")
            now = self.components.get(name)
            if "applicable" in ev:
                self.components[name] = "n/a"
            elif ev.get("replace") is True or now == "n/a" or now is None:
                self.components[name] = list(ev["artifacts"])
            else:
                self.components[name] = now + [a for a in ev["artifacts"] if a not in now]


# ---------------------------------------------------------------- §9


class Chain:
    """The state of §9 as entries (and, in a partial export, withheld
    items) are checked one at a time."""

    def __init__(self, owner=None):
        self.owner = owner  # the pinned key, or None
        self.rules = Ledger()
        self.n = 0  # items checked so far
        self.hashes = []  # entry hash per item, None when withheld
        self.leaves = []  # T§1 leaf hash per item
        self.roles = 0  # genesis, grant and revoke entries so far
        self.ledger_id = None
        self.genesis_signer = None
        self.name = None

    def head(self, upto=None):
        """Hash of the last disclosed entry before item `upto`."""
        for h in reversed(self.hashes[: self.n if upto is None else upto]):
            if h is not None:
                return h
        return None

    def withhold(self, leaf):
        self.hashes.append(None)
        self.leaves.append(leaf)
        self.n += 1

    def check(self, entry):
        """§9.2 step 2 to §9.6 for the framed entry at position self.n."""
        n = self.n
        if len(entry) > MAX_ENTRY:
            raise Reject("too-large", f"{len(entry)} bytes")
        outer = decode_canonical(entry)
        if not (isinstance(outer, list) and len(outer) == 2 and all(isinstance(x, bytes) for x in outer)):
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
            if body["ledger"] != self.ledger_id:
                raise Reject("bad-ledger-id", "another ledger's id")
            # A partial export skips the link after a withheld item (T§7.2).
            if self.hashes[n - 1] is not None and body["prev"] != self.hashes[n - 1]:
                raise Reject("bad-prev", "prev is not the previous hash")
            if ty == "genesis":
                raise Reject("bad-genesis", "genesis after entry 0")
        roles = self.roles + (ty in ROLE_EVENTS)
        if body["roles"] != roles:
            raise Reject("bad-roles", f"roles {body['roles']}, but {roles} genesis, grant and revoke entries")
        # §9.4
        if not signature_ok(body["signer"], SIGNATURE_DOMAIN + body_bytes, signature):
            raise Reject("bad-signature", "signature does not verify")
        # §9.5, §9.6
        if n == 0:
            if self.owner is not None and self.owner != body["signer"]:
                raise Reject("owner-mismatch", "genesis key is not the pinned key")
            self.rules.genesis(body["signer"])
        else:
            self.rules.apply(body["signer"], body["event"], n)
        h = entry_hash(entry)
        if n == 0:
            self.ledger_id, self.genesis_signer, self.name = h, body["signer"], body["event"]["name"]
        self.roles = roles
        self.hashes.append(h)
        self.leaves.append(leaf_hash(entry))
        self.n += 1

    def invalid(self, seq, code, detail):
        head = self.head(seq)
        return {
            "valid": False,
            "entries": seq,
            "head": head.hex() if head else None,
            "owner": self.genesis_signer.hex() if self.genesis_signer else None,
            # §11: pinned once entry 0 has verified against the given owner.
            "pinned": self.owner is not None and self.genesis_signer is not None,
            "error": {"seq": seq, "reason": code, "detail": detail},
        }

    def valid(self, partial=None):
        return {
            "valid": True,
            "name": self.name,
            "ledger": self.ledger_id.hex(),
            "entries": self.n,
            "head": self.head().hex(),
            "owner": self.genesis_signer.hex(),
            "pinned": self.owner is not None,
            "withheld": sum(1 for h in self.hashes if h is None),
            "partial": partial,
        }


def verify_whole(data, owner=None):
    """§9 on an exported ledger; returns (verdict, chain)."""
    chain = Chain(owner)
    pos = 0
    while pos < len(data):
        try:
            end = frame(data, pos)
            chain.check(data[pos:end])
        except Reject as r:
            return chain.invalid(chain.n, r.code, r.detail), chain
        pos = end
    if chain.n == 0:
        return chain.invalid(0, "empty", "the ledger has no entries"), chain
    return chain.valid(), chain


# ------------------------------------------------------------- T§1 the tree


def leaf_hash(entry):
    return sha256(b"\x00" + entry)


def tree_root(leaves):
    """RFC 9162 2.1.1 MTH over leaf hashes; SHA-256() for no leaves."""
    if not leaves:
        return sha256(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return sha256(b"\x01" + tree_root(leaves[:k]) + tree_root(leaves[k:]))


# ------------------------------------------------------ T§2 signed notes


def b64_canonical(s):
    """Standard base64 with padding (RFC 4648 §4), refusing what an encoder
    would not write (missing padding, non-zero padding bits)."""
    if not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", s) or len(s) % 4:
        raise BadNote(f"not padded standard base64: {s!r}")
    raw = base64.b64decode(s, validate=True)
    if base64.b64encode(raw).decode() != s:
        raise BadNote(f"non-canonical base64: {s!r}")
    return raw


def key_id(name, public):
    return sha256(name.encode() + b"\n\x01" + public)[:4]


def parse_vkey(vkey):
    """`name+hex(key id)+base64(0x01 || public key)` -> (name, id, key)."""
    parts = vkey.strip().split("+")
    if len(parts) != 3 or not parts[0] or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise BadNote("not a verifier key")
    name, kid, raw = parts[0], bytes.fromhex(parts[1]), b64_canonical(parts[2])
    if len(raw) != 33 or raw[0] != 0x01 or key_id(name, raw[1:]) != kid:
        raise BadNote("not an Ed25519 verifier key of that name and id")
    return name, kid, raw[1:]


def open_note(note, known):
    """c2sp.org/signed-note: returns the note text once a signature by one
    of `known` ((name, key id, public key) triples) verifies; raises
    BadNote otherwise. Signatures by other keys are ignored."""
    if not isinstance(note, str) or any(ord(c) < 0x20 and c != "\n" for c in note):
        raise BadNote("not a note (control characters)")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise BadNote("no signature block")
    text, lines = note[: split + 1], note[split + 2 :].split("\n")[:-1]
    if not lines:
        raise BadNote("no signature lines")
    verified = 0
    for line in lines:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014" or not parts[1]:
            raise BadNote(f"malformed signature line {line!r}")
        # T§2 refuses non-canonical base64 on any signature line; a line
        # that cannot be a known key's (too short for a key id, another
        # name) is otherwise ignored, as signatures by unknown keys are.
        sig = b64_canonical(parts[2])
        for name, kid, public in known:
            if parts[1] == name and sig[:4] == kid:
                # A known key's signature must verify (signed-note SHOULD).
                if len(sig) != 68 or not signature_ok(public, text.encode(), sig[4:]):
                    raise BadNote(f"bad signature by {name}")
                verified += 1
    if not verified:
        raise BadNote("no signature by a known key")
    return text


def parse_checkpoint(text):
    """c2sp.org/tlog-checkpoint text -> (origin, size, root)."""
    lines = text.split("\n")[:-1]
    if len(lines) < 3 or any(not line for line in lines):
        raise BadNote("a checkpoint needs origin, size and root lines")
    if not re.fullmatch(r"0|[1-9][0-9]*", lines[1]) or int(lines[1]) >= U64:
        raise BadNote("bad tree size")
    root = b64_canonical(lines[2])
    if len(root) != 32:
        raise BadNote("root is not 32 bytes")
    return lines[0], int(lines[1]), root


def default_origin(name, ledger_id):
    """T§2: custody/<slug>/<16 hex digits>, lowercasing ASCII only."""
    lowered = "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in name)
    slug = re.sub(r"[^a-z0-9]+", "-", lowered).strip("-") or "ledger"
    return f"custody/{slug}/{ledger_id.hex()[:16]}"


# ---------------------------------------------------- T§7 partial exports


def parse_selector(s):
    """T§7.3: type:NAME, artifact:ID, component:NAME, openness; never a
    comma or a hidden character."""
    if "," in s or any(hidden(c) for c in s):
        return False
    if s == "openness":
        return True
    kind, sep, arg = s.partition(":")
    if not sep:
        return False
    if kind == "type":
        return arg in EVENTS
    if kind == "component":
        return arg in COMPONENT_KIND
    if kind == "artifact":
        return arg != ""
    return False


def read_header(data):
    """T§7.2 step 1: returns (position after the header, statement,
    publisher), or raises Reject with the reason (always bad-disclosure)."""

    def bad(msg):
        raise Reject("bad-disclosure", msg)

    try:
        w = _Walk(data[: MAX_ENTRY + 1])
        end = w.item(0, 1)
        if end > MAX_ENTRY:
            bad(f"header of {end} bytes")
        w.verdict()
    except Reject as r:
        if r.code == "bad-disclosure":
            raise
        bad(f"header: {r.code}: {r.detail}")
    header = cbor2.loads(data[:end])
    if not isinstance(header, dict) or set(header) != set(HEADER_KEYS):
        bad("header keys are not format, publisher, signature, statement, checkpoint")
    for k, t in HEADER_KEYS.items():
        if not isinstance(header[k], t):
            bad(f"header {k} is not {t.__name__}")
    if header["format"] != PARTIAL_FORMAT:
        bad(f"format {header['format']!r}")
    publisher = header["publisher"]
    if len(publisher) != 32 or len(header["signature"]) != 64:
        bad("publisher or signature of the wrong length")
    if not signature_ok(publisher, STATEMENT_DOMAIN + header["statement"], header["signature"]):
        bad("the publisher's signature on the statement does not verify")
    try:
        st = decode_canonical(header["statement"])
    except Reject as r:
        bad(f"statement: {r.code}: {r.detail}")
    if not isinstance(st, dict) or set(st) != set(STATEMENT_KEYS):
        bad("statement keys are not map, root, size, origin, selectors")
    if not (isinstance(st["map"], bytes) and len(st["map"]) == 32):
        bad("statement map is not 32 bytes")
    if not (isinstance(st["root"], bytes) and len(st["root"]) == 32):
        bad("statement root is not 32 bytes")
    if not is_uint(st["size"]):
        bad("statement size is not a uint")
    if not isinstance(st["origin"], str):
        bad("statement origin is not text")
    sel = st["selectors"]
    if not (isinstance(sel, list) and sel and all(isinstance(s, str) for s in sel)):
        bad("selectors are not a non-empty array of texts")
    for s in sel:
        if not parse_selector(s):
            bad(f"selector {s!r} does not parse")
    try:
        text = open_note(header["checkpoint"], [(st["origin"], key_id(st["origin"], publisher), publisher)])
        checkpoint = parse_checkpoint(text)
    except BadNote as e:
        bad(f"checkpoint: {e}")
    if checkpoint != (st["origin"], st["size"], st["root"]):
        bad("the checkpoint's origin, size or root is not the statement's")
    return end, st, publisher


def verify_partial(data, owner=None):
    """T§7.2; returns (verdict, chain)."""
    chain = Chain(owner)
    try:
        pos, st, publisher = read_header(data)
    except Reject as r:
        return chain.invalid(0, r.code, r.detail), chain
    size = st["size"]
    # Step 2: the items.
    while pos < len(data):
        n = chain.n
        if n == size:
            return chain.invalid(size, "bad-disclosure", "more items than the checkpoint's size"), chain
        try:
            first = data[pos]
            if first == 0x58:
                if pos + 34 > len(data) or data[pos + 1] != 0x20:
                    raise Reject("malformed", "not a 32-byte withheld hash")
                if n == 0:
                    raise Reject("bad-genesis", "the genesis entry is withheld")
                chain.withhold(data[pos + 2 : pos + 34])
                pos += 34
            elif first == 0x82:
                end = frame(data, pos)
                chain.check(data[pos:end])
                pos = end
            else:
                raise Reject("malformed", f"item starts with 0x{first:02x}")
        except Reject as r:
            return chain.invalid(n, r.code, r.detail), chain
    c = chain.n
    if c == 0:
        return chain.invalid(0, "empty", "no items"), chain
    # Step 3: the whole.
    if c != size:
        return chain.invalid(c, "bad-disclosure", f"{c} items, the checkpoint says {size}"), chain
    if chain.hashes[-1] is None:
        return chain.invalid(size - 1, "bad-disclosure", "the last entry is withheld"), chain
    if tree_root(chain.leaves) != st["root"]:
        return chain.invalid(c, "bad-disclosure", "the items do not give the signed root"), chain
    bitmap = bytearray((size + 7) // 8)
    for i, h in enumerate(chain.hashes):
        if h is not None:
            bitmap[i // 8] |= 1 << (i % 8)
    if sha256(MAP_DOMAIN + bytes(bitmap)) != st["map"]:
        return chain.invalid(c, "bad-disclosure", "the items do not give the signed disclosure map"), chain
    if chain.rules.roles.get(publisher) != "owner":
        return chain.invalid(c, "bad-disclosure", "the publisher is not an owner"), chain
    if st["origin"] != default_origin(chain.name, chain.ledger_id):
        return chain.invalid(c, "foreign-checkpoint", f"origin {st['origin']!r}"), chain
    partial = {
        "checkpoint": {"origin": st["origin"], "size": size, "root": st["root"].hex()},
        "selectors": st["selectors"],
        "publisher": publisher.hex(),
    }
    return chain.valid(partial), chain


def verify_chain(data, owner=None):
    # T§7.1: a first byte that is a map head makes a partial export.
    if data and 0xA0 <= data[0] <= 0xBF:
        return verify_partial(data, owner)
    return verify_whole(data, owner)


def verify(data, owner=None):
    """Returns the verdict as `custody verify --json` prints it (without
    `detail` being comparable)."""
    return verify_chain(data, owner)[0]


# ------------------------------------------------- T§3 against a checkpoint


def verify_against(data, note, vkey, origin=None, owner=None):
    """T§3: raises BadNote when the note does not verify with vkey (custody
    exits 2), else returns the verdict."""
    text = open_note(note, [parse_vkey(vkey)])
    cp_origin, size, root = parse_checkpoint(text)
    verdict, chain = verify_chain(data, owner)
    if not verdict["valid"]:
        return verdict
    expected = origin if origin is not None else default_origin(chain.name, chain.ledger_id)
    seq = min(size, chain.n)
    if cp_origin != expected:
        return chain.invalid(seq, "foreign-checkpoint", f"origin {cp_origin!r}, expected {expected!r}")
    if size > chain.n:
        return chain.invalid(seq, "truncated", f"{chain.n} entries, the checkpoint has {size}")
    if tree_root(chain.leaves[:size]) != root:
        return chain.invalid(seq, "fork", f"another root at size {size}")
    return verdict


# ---------------------------------------------------------------- driver


def compare(verdict, expect):
    """Differences between a verdict and an *.expect.json object."""
    got = {"valid": verdict["valid"], "entries": verdict["entries"]}
    if verdict["valid"]:
        got["head"] = verdict["head"]
        got["withheld"] = verdict["withheld"]
    else:
        got["seq"] = verdict["error"]["seq"]
        got["reason"] = verdict["error"]["reason"]
        if got["entries"] != got["seq"]:
            return [f"entries {got['entries']} differs from seq {got['seq']}"]
    want = {k: v for k, v in expect.items() if k != "description"}
    keys = sorted(set(got) | set(want))
    return [f"{k}: expected {want.get(k)!r}, got {got.get(k)!r}" for k in keys if got.get(k) != want.get(k)]


def summary(verdict):
    if verdict["valid"]:
        return f"valid, {verdict['entries']} entries, {verdict['withheld']} withheld, head {verdict['head'][:16]}"
    e = verdict["error"]
    return f"invalid at {e['seq']}: {e['reason']} ({e['detail']})"


def run_tlog(directory):
    """T§8: tlog.json. Returns (cases, failures)."""
    vectors = json.loads((directory / "tlog.json").read_text())
    cases = bad = 0

    def report(ok, what):
        nonlocal cases, bad
        cases += 1
        bad += not ok
        print(f"{'ok   ' if ok else 'FAIL '} tlog {what}")

    for v in vectors["origins"]:
        got = default_origin(v["name"], bytes.fromhex(v["ledger"]))
        report(got == v["origin"], f"origin of {v['name']!r}: {got}" + ("" if got == v["origin"] else f", expected {v['origin']}"))
    for v in vectors["notes"]:
        try:
            open_note(v["note"], [parse_vkey(v["vkey"])])
            got, why = True, "verifies"
        except BadNote as e:
            got, why = False, str(e)
        report(got == v["valid"], f"note, {v['description']}: {why}")
    for v in vectors["checkpoints"]:
        data = (directory / v["ledger"]).read_bytes()
        try:
            verdict = verify_against(data, v["note"], v["vkey"])
        except BadNote as e:
            report(False, f"checkpoint, {v['description']}: the note does not verify: {e}")
            continue
        want = v["expect"]
        if want["valid"]:
            diffs = [] if verdict["valid"] else ["expected valid"]
        else:
            diffs = compare(verdict, {**want, "description": ""})
        report(not diffs, f"checkpoint, {v['description']} ({v['ledger']}): {summary(verdict)}" + ("; " + "; ".join(diffs) if diffs else ""))
    return cases, bad


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
        if diffs:
            bad += 1
            print(f"FAIL  {name}: {summary(verdict)}; " + "; ".join(diffs))
        else:
            print(f"ok    {name}: {summary(verdict)}")
    cases = len(ledgers)
    if (directory / "tlog.json").exists():
        n, b = run_tlog(directory)
        cases, bad = cases + n, bad + b
    print(f"{cases - bad} passed, {bad} failed")
    return 1 if bad else 0


def main(argv):
    opts = {}
    while len(argv) >= 2 and argv[0] in ("--owner", "--checkpoint", "--vkey", "--origin"):
        opts[argv[0]] = argv[1]
        argv = argv[2:]
    if len(argv) != 1 or ("--checkpoint" in opts) != ("--vkey" in opts):
        print(__doc__, file=sys.stderr)
        return 2
    owner = bytes.fromhex(opts["--owner"]) if "--owner" in opts else None
    target = Path(argv[0])
    if target.is_dir():
        return run_vectors(target)
    data = target.read_bytes()
    if "--checkpoint" in opts:
        try:
            verdict = verify_against(
                data, Path(opts["--checkpoint"]).read_text(), opts["--vkey"], opts.get("--origin"), owner
            )
        except BadNote as e:
            print(f"the checkpoint does not verify: {e}", file=sys.stderr)
            return 2
    else:
        verdict = verify(data, owner)
    print(json.dumps(verdict, sort_keys=True))
    return 0 if verdict["valid"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
