#!/usr/bin/env python3
"""Edge cases of schemas/FORMAT.md and TRANSPARENCY.md §7, run through both
verifiers.

Usage: differential.py PATH/TO/custody

Builds a few hundred small ledgers that probe the corners of the format (the
deterministic CBOR rules, tags, nesting limits, the body schema and its
version, the `roles` count, framing and size limits, check order,
signatures, usable keys, hidden characters, SPDX expressions, every ledger
rule including authority over artifacts, hand-overs, component corrections
and declaration-order lineage, the `pinned` field) and partial exports
(header, statement, checkpoint note, items, and the checks on the whole),
each with the verdict the documents say it must get. Each file is verified
by `custody verify --json` and by verify.py (beside this script); the two
verdicts must be identical (valid, entries, head, owner, ledger, name,
pinned, withheld, partial, error seq and reason) and must be the documented
one. Prints one line per case and exits 1 on any disagreement.

Entries, statements and checkpoint notes are signed here with PyNaCl from
fixed, public test seeds.
"""

import base64
import hashlib
import json
import math
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import nacl.bindings
import nacl.signing

sys.path.insert(0, str(Path(__file__).resolve().parent))
import verify as V  # noqa: E402

L = 2**252 + 27742317777372353535851937790883648493
P = 2**255 - 19
T0 = 1_767_225_600


def key(n):
    """Fixed test key n (seed of 32 bytes n), as the test vectors use."""
    return nacl.signing.SigningKey(bytes([n]) * 32)


def pub(n):
    return bytes(key(n).verify_key)


# ------------------------------------------------------------- encoder


class Raw:
    """Bytes spliced verbatim into an encoding."""

    def __init__(self, data):
        self.data = bytes.fromhex(data) if isinstance(data, str) else data


def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * width):
            return bytes([major << 5 | ai]) + n.to_bytes(width, "big")
    raise ValueError(n)


def enc(v):
    """Deterministic CBOR (FORMAT.md section 4) of a Python value."""
    if isinstance(v, Raw):
        return v.data
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, float):
        for code, fmt in ((0xF9, ">e"), (0xFA, ">f"), (0xFB, ">d")):
            try:
                b = struct.pack(fmt, v)
            except OverflowError:
                continue
            if struct.unpack(fmt, b)[0] == v or math.isnan(v):
                return bytes([code]) + b
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(map(enc, v))
    if isinstance(v, dict):
        items = sorted((enc(k), enc(x)) for k, x in v.items())
        return head(5, len(items)) + b"".join(k + x for k, x in items)
    raise TypeError(v)


# ------------------------------------------------------------- ledgers

DELETE = object()


def sign(n, body):
    return key(n).sign(V.SIGNATURE_DOMAIN + body).signature


class Chain:
    """Builds a ledger entry by entry, linking each to the one before
    and counting `roles` unless told otherwise."""

    def __init__(self, name="edge cases", genesis=True):
        self.name = name
        self.entries = []
        self.roles = 0  # genesis, grant and revoke events added so far
        if genesis:
            self.add({"type": "genesis", "name": name})

    @property
    def head(self):
        return V.entry_hash(self.entries[-1]) if self.entries else None

    @property
    def id(self):
        return V.entry_hash(self.entries[0]) if self.entries else None

    @staticmethod
    def counts(event):
        return isinstance(event, dict) and event.get("type") in ("genesis", "grant", "revoke")

    def body(self, event, by=1, **fields):
        seq = len(self.entries)
        b = {
            "v": 2,
            "seq": seq,
            "prev": self.head,
            "time": T0 + seq,
            "event": event,
            "roles": self.roles + self.counts(event),
            "ledger": self.id,
            "signer": by if isinstance(by, bytes) else pub(by),
        }
        for k, x in fields.items():
            if x is DELETE:
                del b[k]
            else:
                b[k] = x
        return b

    def add(self, event, by=1, sig=None, body=None, entry=None, **fields):
        """Appends an entry: `body` replaces the body bytes, `sig` the
        signature, `entry` the whole entry; other keywords replace body
        fields (DELETE removes one)."""
        if entry is None:
            body_bytes = body if body is not None else enc(self.body(event, by, **fields))
            signature = sig if sig is not None else sign(by, body_bytes)
            entry = enc([body_bytes, signature])
        self.entries.append(entry)
        self.roles += self.counts(event)
        return self

    def bytes(self):
        return b"".join(self.entries)


def base():
    """Genesis by key 1, key 2 an appender, and some artifacts."""
    c = Chain()
    c.add({"type": "grant", "key": pub(2).hex(), "role": "appender"})
    for ident, kind in (("raw", "data"), ("clean", "data"), ("out", "data"), ("model", "weights"), ("code", "code")):
        c.add({"type": "artifact", "id": ident, "kind": kind}, by=2)
    return c  # 7 entries: 0..6


NEXT = 7  # the position of the first entry a case adds to base()


def with_params(raw_hex):
    """base() plus a transformation whose `parameters` value is raw CBOR."""
    ev = {"type": "transformation", "operation": "x", "inputs": ["raw"], "outputs": ["out"], "parameters": Raw(raw_hex)}
    return base().add(ev, by=2).bytes()


def nested(levels, inner="01"):
    return "81" * levels + inner


# ------------------------------------------------------------- partial exports
# TRANSPARENCY.md section 7, written out here independently of verify.py.

PARTIAL_FORMAT = "custody-partial/v2"
STATEMENT_DOMAIN = b"custody/v2/partial-export\x00"
MAP_DOMAIN = b"custody/v2/disclosure-map\x00"


def sha(data):
    return hashlib.sha256(data).digest()


def leaf(entry):
    return sha(b"\x00" + entry)


def mth(leaves):
    """RFC 9162 section 2.1.1."""
    if not leaves:
        return sha(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << (len(leaves) - 1).bit_length() - 1
    return sha(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def b64(data):
    return base64.b64encode(data).decode()


def origin_of(name, ledger_id):
    slug = "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in name)
    slug = "".join(ch if ch.isascii() and (ch.islower() or ch.isdigit()) else "-" for ch in slug)
    while "--" in slug:
        slug = slug.replace("--", "-")
    return f"custody/{slug.strip('-') or 'ledger'}/{ledger_id.hex()[:16]}"


def note_line(text, name, n):
    """A signature line by test key n under `name` (c2sp.org/signed-note)."""
    kid = sha(name.encode() + b"\n\x01" + pub(n))[:4]
    return f"\u2014 {name} {b64(kid + key(n).sign(text.encode()).signature)}\n"


def withheld_item(entry):
    return b"\x58\x20" + leaf(entry)


def partial(chain, withheld=(), by=1, selectors=("openness",), **o):
    """A partial export of `chain` withholding the positions in `withheld`,
    published by test key `by`. Options replace one part each:
    statement fields (`st`, a dict; DELETE removes a key), `st_bytes`,
    `signature`, the note's `note_origin`, `note_size`, `note_root`,
    `note_name`, `note_by`, `note_text`, `note_extra` (lines added after
    the signature), `note`; header fields (`hdr`, a dict), `hdr_bytes`;
    `items` (a list of bytes) and `tail` (bytes after them)."""
    entries = chain.entries
    size = len(entries)
    bitmap = bytearray((size + 7) // 8)
    for i in range(size):
        if i not in withheld:
            bitmap[i // 8] |= 1 << (i % 8)
    origin = origin_of(chain.name, chain.id)
    root = mth([leaf(x) for x in entries])
    st = {"map": sha(MAP_DOMAIN + bytes(bitmap)), "root": root, "size": size, "origin": origin, "selectors": list(selectors)}
    for k, x in o.get("st", {}).items():
        if x is DELETE:
            del st[k]
        else:
            st[k] = x
    st_bytes = o.get("st_bytes", enc(st))
    text = o.get("note_text")
    if text is None:
        text = f"{o.get('note_origin', origin)}\n{o.get('note_size', size)}\n{b64(o.get('note_root', root))}\n"
    note = o.get("note")
    if note is None:
        note = text + "\n" + note_line(text, o.get("note_name", origin), o.get("note_by", by)) + o.get("note_extra", "")
    header = {
        "format": PARTIAL_FORMAT,
        "publisher": pub(by),
        "signature": o.get("signature") or key(by).sign(STATEMENT_DOMAIN + st_bytes).signature,
        "statement": st_bytes,
        "checkpoint": note,
    }
    for k, x in o.get("hdr", {}).items():
        if x is DELETE:
            del header[k]
        else:
            header[k] = x
    hdr_bytes = o.get("hdr_bytes", enc(header))
    items = o.get("items")
    if items is None:
        items = [withheld_item(x) if i in withheld else x for i, x in enumerate(entries)]
    return hdr_bytes + b"".join(items) + o.get("tail", b"")


def pbase():
    """A ledger to export partially: grants and a revoke, artifacts held by
    key 2 and key 3, licenses and releases (11 entries, 0..10)."""
    c = Chain("Partial Edge-Cases")
    c.add({"type": "grant", "key": pub(2).hex(), "role": "appender"})  # 1
    c.add({"type": "artifact", "id": "raw", "kind": "data"}, by=2)  # 2
    c.add({"type": "artifact", "id": "model", "kind": "weights"}, by=2)  # 3
    c.add({"type": "license", "artifact": "raw", "license": "MIT"}, by=2)  # 4
    c.add({"type": "release", "artifact": "raw", "access": "public"}, by=2)  # 5
    c.add({"type": "grant", "key": pub(3).hex(), "role": "appender"})  # 6
    c.add({"type": "artifact", "id": "other", "kind": "data"}, by=3)  # 7
    c.add({"type": "revoke", "key": pub(3).hex()})  # 8
    c.add({"type": "transformation", "operation": "x", "inputs": ["raw"], "outputs": ["other"]}, by=1)  # 9
    c.add({"type": "release", "artifact": "model", "access": "none"}, by=2)  # 10
    return c

CASES = []


def case(name, data, expect, owner=None, pinned=None, withheld=0):
    """expect: "valid", or (seq, reason); pinned, when given, the `pinned`
    field FORMAT.md section 11 gives; withheld, for a valid one, the
    entries a partial export withholds."""
    CASES.append((name, data, expect, owner, pinned, withheld))


def build_cases():
    ok = "valid"
    e = NEXT

    # ---- section 4: deterministic CBOR, inside an event
    case("canonical parameters", with_params("a2616101616202"), ok)
    case("integer in a longer head than needed", with_params("1805"), (e, "non-canonical"))
    case("24 in one extra byte is shortest", with_params("1818"), (e, "bad-event"))
    case("length in a longer head than needed", with_params("780161"), (e, "non-canonical"))
    case("indefinite-length array", with_params("9f01ff"), (e, "non-canonical"))
    case("indefinite-length map", with_params("bf616101ff"), (e, "non-canonical"))
    case("indefinite-length text", with_params("7f616161 62ff".replace(" ", "")), (e, "non-canonical"))
    case("indefinite text with a byte-string chunk", with_params("7f4161ff"), (e, "malformed"))
    case("indefinite text with a nested indefinite chunk", with_params("7f7f6161ffff"), (e, "malformed"))
    case("indefinite bytes with a nested indefinite chunk", with_params("5f5f4101ffff"), (e, "malformed"))
    case("indefinite text with chunks split inside a character", with_params("7f61c361a9ff"), (e, "malformed"))
    case("indefinite text with an invalid UTF-8 chunk", with_params("7f61c3ff"), (e, "malformed"))
    case("text that is not UTF-8", with_params("62c328"), (e, "malformed"))
    case("map keys out of order", with_params("a2616201616102"), (e, "non-canonical"))
    case("map key repeated", with_params("a2616101616102"), (e, "non-canonical"))
    case("shorter key first across lengths", with_params("a26162016261610 2".replace(" ", "")), ok)
    case("map ending after a key", with_params("bf6161ff"), (e, "malformed"))
    case("1.0 as a single", with_params("a16161fa3f800000"), (e, "non-canonical"))
    case("1.0 as a double", with_params("a16161fb3ff0000000000000"), (e, "non-canonical"))
    case("1.5 as a half", with_params("a16161f93e00"), ok)
    case("smallest half subnormal", with_params("a16161f90001"), ok)
    case("0.1 needs a double", with_params("a16161fb3fb999999999999a"), ok)
    case("a single that is exact", with_params("a16161fa3dcccccd"), ok)
    case("-0.0 as a half", with_params("a16161f98000"), ok)
    case("-0.0 as a single", with_params("a16161fa80000000"), (e, "non-canonical"))
    case("65504 (largest half)", with_params("a16161f97bff"), ok)
    case("65520 needs a single", with_params("a16161fa477ff000"), ok)
    case("NaN", with_params("a16161f97e00"), (e, "non-canonical"))
    case("NaN as a double", with_params("a16161fb7ff8000000000000"), (e, "non-canonical"))
    case("infinity", with_params("a16161f97c00"), (e, "non-canonical"))
    case("undefined", with_params("f7"), (e, "non-canonical"))
    case("false in two bytes", with_params("f814"), (e, "malformed"))
    case("undefined in two bytes", with_params("f817"), (e, "malformed"))
    case("simple value 0 in two bytes", with_params("f800"), (e, "malformed"))
    case("simple value 31 in two bytes", with_params("f81f"), (e, "malformed"))
    case("simple value 32", with_params("f820"), (e, "malformed"))
    case("simple value 255", with_params("f8ff"), (e, "malformed"))
    case("simple value 0", with_params("e0"), (e, "malformed"))
    case("simple value 19", with_params("f3"), (e, "malformed"))
    case("reserved additional information 28", with_params("1c"), (e, "malformed"))
    case("reserved additional information 30 in major 7", with_params("fe"), (e, "malformed"))
    case("reserved additional information 29 on a byte string", with_params("5d"), (e, "malformed"))
    case("indefinite integer", with_params("1f"), (e, "malformed"))
    case("indefinite negative integer", with_params("3f"), (e, "malformed"))
    case("indefinite tag", with_params("df01"), (e, "malformed"))
    case("break as a value", with_params("ff"), (e, "malformed"))
    case("break in a definite array inside an indefinite one", with_params("9f81ffff"), (e, "malformed"))
    case("break as a tag's content", with_params("c1ff"), (e, "malformed"))
    case("truncated array", with_params("8201"), (e, "malformed"))
    case("array declaring more items than bytes left", with_params("9b00000000ffffffff"), (e, "malformed"))
    case("map declaring 2^63 pairs", with_params("bb8000000000000000"), (e, "malformed"))
    case("invalid UTF-8 beside a longer head", with_params("82180562c328"), (e, "malformed"))
    case("unassigned simple value beside a longer head", with_params("821805e0"), (e, "malformed"))

    # ---- tags: any tag is non-canonical, after well-formedness
    case("tag 1 (epoch time) in an event", with_params("c11a6955b900"), (e, "non-canonical"))
    case("tag 0 (date text) in an event", with_params("c074323031332d30332d32315432303a30343a30305a"), (e, "non-canonical"))
    case("self-describe tag around parameters", with_params("d9d9f7a0"), (e, "non-canonical"))
    case("tag 32 in a longer head", with_params("d9002060"), (e, "non-canonical"))
    case("tag 24 (embedded CBOR) in an event", with_params("d8184101"), (e, "non-canonical"))
    case("bignum that fits 64 bits", with_params("c24105"), (e, "non-canonical"))
    case("bignum tag in a longer head", with_params("d80241 05".replace(" ", "")), (e, "non-canonical"))
    case("bignum 2^64", with_params("c249010000000000000000"), (e, "non-canonical"))
    case("bignum 2^64 with a leading zero", with_params("c24a00010000000000000000"), (e, "non-canonical"))
    case("negative bignum -1-2^64", with_params("c349010000000000000000"), (e, "non-canonical"))
    case("negative bignum of magnitude 2^127", with_params("c35080" + "00" * 15), (e, "non-canonical"))
    case("positive bignum of magnitude 2^127", with_params("c25080" + "00" * 15), (e, "non-canonical"))
    case("bignum over 17 bytes", with_params("c25101" + "00" * 16), (e, "non-canonical"))
    case("bignum over an indefinite byte string", with_params("c25f4105ff"), (e, "non-canonical"))
    case("tag over text that is not UTF-8", with_params("c162c328"), (e, "non-canonical"))
    case("tag beside text that is not UTF-8", with_params("82c10162c328"), (e, "non-canonical"))
    case("tag over an unassigned simple value", with_params("c1e0"), (e, "non-canonical"))
    case("tag over a simple value in two bytes", with_params("c1f814"), (e, "malformed"))
    case("tag over a truncated item", with_params("c11a69"), (e, "malformed"))
    case("tag with additional information 31", with_params("df01"), (e, "malformed"))

    # ---- nesting: the body map is level 1, the event level 2; every tag is a level
    case("48 levels: within the decoder's limit", with_params(nested(46)), (e, "bad-event"))
    case("49 levels", with_params(nested(47)), (e, "malformed"))
    case("48 levels with a tag", with_params("c1" + nested(45)), (e, "non-canonical"))
    case("49 levels with a tag", with_params("c1" + nested(46)), (e, "malformed"))
    case("a tag at level 48", with_params(nested(45, "c101")), (e, "non-canonical"))
    case("a tag at level 49", with_params(nested(46, "c101")), (e, "malformed"))
    case("a bignum at level 48", with_params(nested(45, "c249010000000000000000")), (e, "non-canonical"))
    case("a bignum at level 49 is a level too", with_params(nested(46, "c249010000000000000000")), (e, "malformed"))
    case("a small bignum at level 49", with_params(nested(46, "c24105")), (e, "malformed"))
    case("48 levels of tags", with_params("c1" * 46 + "01"), (e, "non-canonical"))
    case("49 levels of tags", with_params("c1" * 47 + "01"), (e, "malformed"))
    case("event depth 16", with_params("a16161" * 15 + "01"), ok)
    case("event depth 17", with_params("a16161" * 16 + "01"), (e, "bad-event"))
    case("empty containers add no depth", with_params("a16161" * 15 + "a0"), ok)

    # ---- JSON model of events
    case("integer -2^63", with_params("a161613b7fffffffffffffff"), ok)
    case("integer -2^63-1", with_params("a161613b8000000000000000"), (e, "bad-event"))
    case("integer 2^64-1", with_params("a161611bffffffffffffffff"), ok)
    case("byte string in an event", with_params("a1616141 00".replace(" ", "")), (e, "bad-event"))
    case("integer map key in an event", with_params("a10102"), (e, "bad-event"))
    case("keys 1 and 1.0 are distinct", with_params("a201f5f93c00f4"), (e, "bad-event"))
    case("array map key in an event", with_params("a1810102"), (e, "bad-event"))
    case("text over 4096 bytes that is not UTF-8", with_params("7a00001001" + "61" * 4096 + "ff"), (e, "malformed"))

    # ---- section 5: body
    def body_case(name, expect, **fields):
        c = base()
        by = fields.pop("by", 2)
        c.add(fields.pop("event", {"type": "release", "artifact": "raw", "access": "none"}), by=by, **fields)
        case(name, c.bytes(), expect)

    body_case("body without time", (e, "bad-body"), time=DELETE)
    body_case("body with an extra key", (e, "bad-body"), x=0)
    body_case("tag as a body value", (e, "non-canonical"), time=Raw("c11a6955b900"))
    body_case("tag around the event", (e, "non-canonical"), event=Raw(bytes.fromhex("d9d9f7") + enc({"type": "release", "artifact": "raw", "access": "none"})))
    body_case("tag as an unknown body key's value", (e, "non-canonical"), x=Raw("c100"))
    c = base()
    b = c.body({"type": "release", "artifact": "raw", "access": "none"}, by=2)
    b[1] = 0
    case("body with an integer key", c.add(None, body=enc(b), by=2).bytes(), (e, "bad-body"))
    body_case("v as a float", (e, "bad-body"), v=1.5)
    body_case("v as a bignum", (e, "non-canonical"), v=Raw("c24101"))
    body_case("seq negative", (e, "bad-body"), seq=-1)
    body_case("seq true", (e, "bad-body"), seq=True)
    body_case("time as text", (e, "bad-body"), time="now")
    body_case("prev of 31 bytes", (e, "bad-body"), prev=b"\0" * 31)
    body_case("ledger as text", (e, "bad-body"), ledger="x")
    body_case("signer null", (e, "bad-body"), signer=None)
    body_case("event an array", (e, "bad-body"), event=[])
    body_case("bad event and wrong seq", (e, "bad-event"), seq=99, event={"type": "teleport"})
    body_case("time far in the past is not checked", ok, time=0)

    # ---- section 5: the version is read first
    body_case("version 1", (e, "unsupported-version"), v=1)
    body_case("version 3", (e, "unsupported-version"), v=3)
    body_case("version 0", (e, "unsupported-version"), v=0)
    body_case("version 2^64-1", (e, "unsupported-version"), v=2**64 - 1)
    body_case("a format 1 body (no roles)", (e, "unsupported-version"), v=1, roles=DELETE)
    body_case("version 1 and a missing key", (e, "unsupported-version"), v=1, time=DELETE)
    body_case("version 1 and an extra key", (e, "unsupported-version"), v=1, x=0)
    body_case("version 1 and a bad event", (e, "unsupported-version"), v=1, event={"type": "teleport"})
    body_case("version 1 and an event that is not a map", (e, "unsupported-version"), v=1, event=[])
    body_case("version 1 and a null signer", (e, "unsupported-version"), v=1, signer=None)
    body_case("version 1 and a wrong seq", (e, "unsupported-version"), v=1, seq=99)
    body_case("version 1 and a bad signature", (e, "unsupported-version"), v=1, sig=b"\0" * 64)
    body_case("version 3 and roles as text", (e, "unsupported-version"), v=3, roles="x")
    c = base()
    b = c.body({"type": "release", "artifact": "raw", "access": "none"}, by=2, v=1)
    b[1] = 0
    case("version 1 and an integer key", c.add(None, body=enc(b), by=2).bytes(), (e, "unsupported-version"))
    body_case("version 1 in a tag", (e, "non-canonical"), v=Raw("c101"))
    body_case("version -1", (e, "bad-body"), v=-1)
    body_case("version 2.0 as a float", (e, "bad-body"), v=2.0)
    body_case("version 1.0 as a float, a key missing", (e, "bad-body"), v=1.0, time=DELETE)
    body_case("version true", (e, "bad-body"), v=True)
    body_case("version as text", (e, "bad-body"), v="1")
    body_case("version null", (e, "bad-body"), v=None)
    body_case("no version", (e, "bad-body"), v=DELETE)
    body_case("version 2 and a missing key", (e, "bad-body"), time=DELETE)
    body_case("version 2 and no roles", (e, "bad-body"), roles=DELETE)
    c = Chain(genesis=False)
    c.add({"type": "genesis", "name": "x"}, v=1, roles=DELETE)
    case("a format 1 genesis", c.bytes(), (0, "unsupported-version"))
    c = Chain(genesis=False)
    c.add({"type": "genesis", "name": "x"}, v=1, prev=b"\0" * 32)
    case("a version 1 genesis with a prev", c.bytes(), (0, "unsupported-version"))

    # ---- sections 5 and 9.3: roles
    body_case("roles as text", (e, "bad-body"), roles="2")
    body_case("roles negative", (e, "bad-body"), roles=-1)
    body_case("roles as a float", (e, "bad-body"), roles=2.0)
    body_case("roles true", (e, "bad-body"), roles=True)
    body_case("roles null", (e, "bad-body"), roles=None)
    body_case("roles as a bignum", (e, "non-canonical"), roles=Raw("c24102"))
    body_case("roles one too many", (e, "bad-roles"), roles=3)
    body_case("roles one too few", (e, "bad-roles"), roles=1)
    body_case("roles 2^64-1", (e, "bad-roles"), roles=2**64 - 1)
    body_case("roles wrong and a bad signature", (e, "bad-roles"), roles=0, sig=b"\0" * 64)
    body_case("roles wrong and a bad prev", (e, "bad-prev"), roles=0, prev=b"\1" * 32)
    body_case("roles wrong and a wrong seq", (e, "bad-sequence"), roles=0, seq=99)
    body_case("roles wrong and a bad event", (e, "bad-event"), roles=0, event={"type": "teleport"})
    body_case("roles wrong, signed by a stranger", (e, "bad-roles"), roles=0, by=3)
    c = base().add({"type": "grant", "key": pub(3).hex(), "role": "appender"}, roles=2)
    case("a grant not counted", c.bytes(), (e, "bad-roles"))
    c = base().add({"type": "grant", "key": pub(3).hex(), "role": "appender"}).add({"type": "revoke", "key": pub(3).hex()}, roles=3)
    case("a revoke not counted", c.bytes(), (e + 1, "bad-roles"))
    c = base().add({"type": "grant", "key": pub(3).hex(), "role": "appender"}).add({"type": "revoke", "key": pub(3).hex()})
    c.add({"type": "release", "artifact": "raw", "access": "none"}, by=2)
    assert c.roles == 4
    case("grant and revoke counted", c.bytes(), ok)
    c = base().add({"type": "grant", "key": pub(1).hex(), "role": "owner"})
    case("a grant that changes nothing still counts", c.bytes(), ok)
    c = base().add({"type": "grant", "key": pub(1).hex(), "role": "owner"}, roles=2)
    case("a grant that changes nothing, not counted", c.bytes(), (e, "bad-roles"))
    c = Chain(genesis=False)
    c.add({"type": "genesis", "name": "x"}, roles=0)
    case("genesis with roles 0", c.bytes(), (0, "bad-roles"))
    c = Chain(genesis=False)
    c.add({"type": "genesis", "name": "x"}, roles=2)
    case("genesis with roles 2", c.bytes(), (0, "bad-roles"))
    c = Chain(genesis=False)
    c.add({"type": "genesis", "name": "x"}, roles=0, ledger=b"\0" * 32)
    case("genesis with roles 0 and a ledger id", c.bytes(), (0, "bad-genesis"))
    c = Chain(genesis=False)
    c.add({"type": "genesis", "name": "x"}, roles=0)
    case("genesis with roles 0, owner pinned to another key", c.bytes(), (0, "bad-roles"), owner=pub(2), pinned=False)
    c = Chain().add({"type": "genesis", "name": "again"}, roles=5)
    case("a second genesis with wrong roles", c.bytes(), (1, "bad-genesis"))

    ordered = enc(base().body({"type": "release", "artifact": "raw", "access": "none"}, by=2))
    assert ordered[:4] == bytes.fromhex("a8617602")
    swapped = ordered[:1] + ordered[4:9] + ordered[1:4] + ordered[9:]  # "seq": 7 before "v": 2
    case("body keys out of order", base().add(None, body=swapped, by=2).bytes(), (e, "non-canonical"))
    case("body as an indefinite map", base().add(None, body=b"\xbf" + ordered[1:] + b"\xff", by=2).bytes(), (e, "non-canonical"))
    for name, raw, expect in (
        ("body an array", enc([1]), "bad-body"),
        ("body a tag around the map", b"\xd8\x20" + enc(base().body({}, by=2)), "non-canonical"),
        ("body a tag around a valid body", b"\xd9\xd9\xf7" + ordered, "non-canonical"),
        ("body with a trailing byte", ordered + b"\x00", "malformed"),
        ("body empty", b"", "malformed"),
    ):
        case(name, base().add(None, body=raw, by=2).bytes(), (e, expect))

    # ---- section 3 / 9.2: the entry
    c = base()
    body = enc(c.body({"type": "release", "artifact": "raw", "access": "none"}, by=2))
    sig = sign(2, body)
    for name, entry, expect in (
        ("body element in a longer head", b"\x82\x59" + len(body).to_bytes(2, "big") + body + enc(sig), "non-canonical"),
        ("signature element in a longer head", b"\x82" + enc(body) + b"\x59\x00\x40" + sig, "non-canonical"),
        ("signature of 63 bytes", b"\x82" + enc(body) + enc(sig[:63]), "malformed"),
        ("signature of 65 bytes", b"\x82" + enc(body) + enc(sig + b"\0"), "malformed"),
        ("three-element entry", b"\x83" + enc(body) + enc(sig) + b"\x00", "malformed"),
        ("body element as text", b"\x82" + head(3, len(body)) + body + enc(sig), "malformed"),
        ("body element indefinite", b"\x82\x5f" + enc(body) + b"\xff" + enc(sig), "malformed"),
        ("body element with reserved length", b"\x82\x5c" + enc(sig), "malformed"),
        ("tag around the whole entry", b"\xd9\xd9\xf7" + enc([body, sig]), "malformed"),
        ("tag around the body element", b"\x82\xc1" + enc(body) + enc(sig), "malformed"),
        ("tag around the signature element", b"\x82" + enc(body) + b"\xc1" + enc(sig), "malformed"),
    ):
        case(name, c.bytes() + entry, (e, expect))

    # ---- sizes
    def sized(total):
        """base() plus an artifact entry of exactly `total` bytes."""
        c = base()
        ev = {"type": "artifact", "id": "big", "kind": "data", "description": ""}
        fixed = len(enc([enc(c.body(ev, by=2)), b"\0" * 64]))
        for pad in range(total - fixed - 8, total - fixed + 1):
            ev["description"] = "x" * pad
            if len(enc([enc(c.body(ev, by=2)), b"\0" * 64])) == total:
                return c.add(ev, by=2).bytes()
        raise ValueError(total)

    case("entry of exactly 65536 bytes", sized(65536), ok)
    case("entry of 65537 bytes", sized(65537), (e, "too-large"))
    case("declared body too large, file truncated", base().bytes() + b"\x82\x5a\x00\x01\x00\x00", (e, "too-large"))
    case("declared signature pushes past the limit", base().bytes() + b"\x82\x59\xff\xf0" + b"\0" * 0xFFF0 + b"\x58\x40", (e, "too-large"))
    case("huge 8-byte length", base().bytes() + b"\x82\x5b" + b"\xff" * 8, (e, "too-large"))

    # ---- section 2: framing
    good = base().bytes()
    case("file ends after 0x82", good + b"\x82", (e, "malformed"))
    case("file ends inside a length", good + b"\x82\x59\x01", (e, "malformed"))
    case("file ends inside a body", good + b"\x82\x58\x40" + b"\0" * 10, (e, "malformed"))
    case("a stray 0x82 at the end", good + b"\x82", (e, "malformed"))
    case("a stray 0xff at the end", good + b"\xff", (e, "malformed"))
    case("first byte not 0x82", b"\x81" + good[1:], (0, "malformed"))
    case("empty file", b"", (0, "empty"))
    case("valid base ledger", good, ok)

    # ---- section 9.3: place in the chain, and check order
    c = Chain(genesis=False)
    c.add({"type": "genesis", "name": "x"}, seq=1)
    case("genesis with seq 1", c.bytes(), (0, "bad-sequence"))
    c = Chain(genesis=False)
    c.add({"type": "genesis", "name": "x"}, prev=b"\0" * 32)
    case("genesis with a prev", c.bytes(), (0, "bad-genesis"))
    c = Chain(genesis=False)
    c.add({"type": "genesis", "name": "x"}, ledger=b"\0" * 32)
    case("genesis with a ledger id", c.bytes(), (0, "bad-genesis"))
    c = Chain(genesis=False)
    c.add({"type": "genesis", "name": ""})
    case("genesis with an empty name", c.bytes(), (0, "bad-event"))
    c = Chain(genesis=False)
    c.add({"type": "genesis", "name": "x", "note": "first"})
    case("genesis with a note", c.bytes(), ok)
    c = Chain(genesis=False)
    c.add({"type": "genesis", "name": "x", "owner": "me"})
    case("genesis with an unknown field", c.bytes(), (0, "bad-event"))
    c = Chain(genesis=False)
    c.add({"type": "genesis", "name": "x"}, sig=b"\0" * 64)
    case("genesis with a bad signature", c.bytes(), (0, "bad-signature"))
    case("genesis with a bad signature and a pinned owner", c.bytes(), (0, "bad-signature"), owner=pub(2), pinned=False)
    case("genesis with a bad signature by the pinned owner", c.bytes(), (0, "bad-signature"), owner=pub(1), pinned=False)
    case("owner pinned, another key signed", Chain().bytes(), (0, "owner-mismatch"), owner=pub(2), pinned=False)
    case("owner pinned and matching", base().bytes(), ok, owner=pub(1), pinned=True)
    case("owner not pinned", base().bytes(), ok, pinned=False)
    case("owner pinned and matching, later entry bad", base().add({"type": "teleport"}, by=2).bytes(), (e, "bad-event"), owner=pub(1), pinned=True)
    case("owner pinned and matching, entry 1 bad signature", Chain().add({"type": "grant", "key": pub(2).hex(), "role": "appender"}, sig=b"\0" * 64).bytes(), (1, "bad-signature"), owner=pub(1), pinned=True)
    case("owner not pinned, later entry bad", base().add({"type": "teleport"}, by=2).bytes(), (e, "bad-event"), pinned=False)
    c = Chain(genesis=False)
    c.add({"type": "genesis", "name": ""})
    case("owner pinned and matching, genesis event bad", c.bytes(), (0, "bad-event"), owner=pub(1), pinned=False)

    def link_case(name, expect, **fields):
        c = Chain()
        c.add(fields.pop("event", {"type": "grant", "key": pub(2).hex(), "role": "appender"}), **fields)
        case(name, c.bytes(), expect)

    link_case("ledger id null", (1, "bad-ledger-id"), ledger=None)
    link_case("prev null", (1, "bad-prev"), prev=None)
    link_case("ledger id and prev both wrong", (1, "bad-ledger-id"), ledger=b"\1" * 32, prev=b"\1" * 32)
    link_case("seq and ledger id both wrong", (1, "bad-sequence"), seq=5, ledger=b"\1" * 32)
    link_case("bad prev and bad signature", (1, "bad-prev"), prev=b"\1" * 32, sig=b"\0" * 64)
    link_case("genesis again at 1", (1, "bad-genesis"), event={"type": "genesis", "name": "again"})
    c = Chain()
    c.add({"type": "revoke", "key": pub(3).hex()}, sig=b"\0" * 64)
    case("bad signature and a rule violation", c.bytes(), (1, "bad-signature"))
    c = Chain()
    c.add({"type": "release", "artifact": "raw", "access": "none"}, by=3, sig=b"\0" * 64)
    case("bad signature by a stranger", c.bytes(), (1, "bad-signature"))

    # ---- section 6.3: signatures
    c = Chain()
    body = enc(c.body({"type": "grant", "key": pub(2).hex(), "role": "appender"}))
    sig = sign(1, body)
    high_s = sig[:32] + (int.from_bytes(sig[32:], "little") + L).to_bytes(32, "little")
    case("s + L", c.add(None, body=body, sig=high_s).bytes(), (1, "bad-signature"))
    case("signature valid", Chain().add({"type": "grant", "key": pub(2).hex(), "role": "appender"}).bytes(), ok)
    identity = b"\x01" + b"\0" * 31
    for name, signer, signature in (
        ("identity key, identity R, s = 0", identity, identity + b"\0" * 32),
        ("signer not a point", (2).to_bytes(32, "little"), b"\0" * 64),
        ("signer with y = p + 3", (P + 3).to_bytes(32, "little"), b"\0" * 64),
    ):
        c = Chain(genesis=False)
        c.add({"type": "genesis", "name": "x"}, by=signer, sig=signature)
        case(name, c.bytes(), (0, "bad-signature"))

    # ---- section 8: rules
    def rules(name, events, expect):
        c = base()
        for signer, ev in events:
            c.add(ev, by=signer)
        case(name, c.bytes(), expect)

    k = lambda n: pub(n).hex()  # noqa: E731
    grant = lambda n, role: {"type": "grant", "key": k(n), "role": role}  # noqa: E731
    revoke = lambda n: {"type": "revoke", "key": k(n)}  # noqa: E731
    rel = {"type": "release", "artifact": "raw", "access": "public"}
    art = lambda i, kind="data": {"type": "artifact", "id": i, "kind": kind}  # noqa: E731
    tr = lambda i, o, **kw: {"type": "transformation", "operation": "x", "inputs": i, "outputs": o, **kw}  # noqa: E731
    aug = lambda i, o, **kw: {"type": "augmentation", "method": "m", "inputs": i, "outputs": o, **kw}  # noqa: E731
    comp = lambda name, **kw: {"type": "component", "component": name, **kw}  # noqa: E731

    rules("stranger signs", [(3, rel)], (e, "unauthorized"))
    rules("appender grants", [(2, grant(3, "appender"))], (e, "unauthorized"))
    rules("appender revokes", [(2, revoke(2))], (e, "unauthorized"))
    rules("revoked appender signs", [(1, revoke(2)), (2, rel)], (e + 1, "revoked"))
    rules("revoked key granted again", [(1, revoke(2)), (1, grant(2, "appender")), (2, rel)], ok)
    rules("revoking twice", [(1, revoke(2)), (1, revoke(2))], (e + 1, "rule-violation"))
    rules("revoking a key never granted", [(1, revoke(3))], (e, "rule-violation"))
    rules("revoking the last owner", [(1, revoke(1))], (e, "rule-violation"))
    rules("demoting the last owner", [(1, grant(1, "appender"))], (e, "rule-violation"))
    rules("granting an owner owner again", [(1, grant(1, "owner")), (1, rel)], ok)
    rules("demoting oneself with another owner", [(1, grant(3, "owner")), (1, grant(1, "appender")), (1, art("x"))], ok)
    rules("a self-demoted owner releases another's artifact", [(1, grant(3, "owner")), (1, grant(1, "appender")), (1, rel)], (e + 2, "no-authority"))
    rules("a demoted owner may not grant", [(1, grant(3, "owner")), (1, grant(1, "appender")), (1, grant(4, "appender"))], (e + 2, "unauthorized"))
    rules("an owner revokes itself", [(1, grant(3, "owner")), (1, revoke(1)), (3, rel)], ok)
    rules("a self-revoked owner signs", [(1, grant(3, "owner")), (1, revoke(1)), (1, rel)], (e + 2, "revoked"))
    rules("second owner then last owner check", [(1, grant(3, "owner")), (3, revoke(1)), (3, revoke(3))], (e + 2, "rule-violation"))
    rules("appender promoted to owner grants", [(1, grant(2, "owner")), (2, grant(3, "appender"))], ok)
    rules("artifact declared twice", [(2, art("raw"))], (e, "rule-violation"))
    rules("custody of an undeclared artifact", [(2, {"type": "custody", "artifact": "x", "from": "a", "to": "b"})], (e, "rule-violation"))
    rules("license of an undeclared artifact", [(2, {"type": "license", "artifact": "x", "license": "MIT"})], (e, "rule-violation"))
    rules("release of an undeclared artifact", [(2, {"type": "release", "artifact": "x", "access": "none"})], (e, "rule-violation"))
    rules("undeclared input", [(2, tr(["x"], ["out"]))], (e, "rule-violation"))
    rules("undeclared output", [(2, tr(["raw"], ["x"]))], (e, "rule-violation"))
    rules("output produced twice", [(2, tr(["raw"], ["out"])), (2, tr(["clean"], ["out"]))], (e + 1, "rule-violation"))
    rules("output is an input", [(2, tr(["raw"], ["raw"]))], (e, "rule-violation"))
    rules("two-step cycle", [(2, tr(["raw"], ["out"])), (2, tr(["out"], ["raw"]))], (e + 1, "rule-violation"))
    rules("three-step cycle", [(2, tr(["raw"], ["clean"])), (2, tr(["clean"], ["out"])), (2, tr(["out"], ["raw"]))], (e + 2, "rule-violation"))
    rules("an input produced later, declared after the output", [(2, tr(["raw"], ["out"])), (2, tr(["clean"], ["raw"]))], (e + 1, "rule-violation"))
    rules("diamond, no cycle", [(2, tr(["raw"], ["clean"])), (2, tr(["raw", "clean"], ["out"]))], ok)
    rules("generator must be weights", [(2, aug(["raw"], ["out"], generator="clean"))], (e, "rule-violation"))
    rules("undeclared generator", [(2, aug(["raw"], ["out"], generator="x"))], (e, "rule-violation"))
    rules("generator also an input, declared after the output", [(2, aug(["raw", "model"], ["out"], generator="model"))], (e, "rule-violation"))
    rules("generator as an output", [(2, aug(["raw"], ["model"], generator="model"))], (e, "rule-violation"))
    rules("generator declared after the output", [(2, aug(["raw"], ["out"], generator="model"))], (e, "rule-violation"))
    rules("component kind mismatch", [(1, comp("weights", artifacts=["raw"]))], (e, "rule-violation"))
    rules("component kinds fit", [(1, comp("weights", artifacts=["model"])), (1, comp("inference-code", artifacts=["code"])), (1, comp("sft-data", artifacts=["raw"]))], ok)
    rules("component of an undeclared artifact", [(1, comp("sft-data", artifacts=["x"]))], (e, "rule-violation"))
    rules("not applicable, then artifacts", [(1, comp("sft-data", applicable=False)), (1, comp("sft-data", artifacts=["raw"]))], ok)
    rules("artifacts, then not applicable", [(1, comp("sft-data", artifacts=["raw"])), (1, comp("sft-data", applicable=False))], ok)
    rules("not applicable twice", [(1, comp("sft-data", applicable=False)), (1, comp("sft-data", applicable=False))], ok)
    rules("artifacts accumulate", [(1, comp("sft-data", artifacts=["raw"])), (1, comp("sft-data", artifacts=["raw", "clean"]))], ok)
    rules("both forms in one event", [(1, comp("sft-data", artifacts=["raw"], applicable=False))], (e, "bad-event"))
    rules("both forms in one event, by an appender", [(2, comp("sft-data", artifacts=["raw"], applicable=False))], (e, "bad-event"))
    rules("a bad SPDX expression", [(2, {"type": "license", "artifact": "raw", "license": "MIT OR"})], (e, "bad-event"))
    rules("SPDX exception id holding a plus", [(2, {"type": "license", "artifact": "raw", "license": "MIT WITH a+b"})], (e, "bad-event"))
    rules("SPDX exception id ending in a plus", [(2, {"type": "license", "artifact": "raw", "license": "GPL-2.0+ WITH Classpath-exception-2.0+"})], (e, "bad-event"))
    rules("SPDX license id with a plus and an exception", [(2, {"type": "license", "artifact": "raw", "license": "GPL-2.0+ WITH Classpath-exception-2.0"})], ok)
    rules("SPDX id outside the license registry", [(2, {"type": "license", "artifact": "raw", "license": "LicenseRef-nowhere OR Not-A-License-1.0"})], ok)
    rules("SPDX 32 nested parentheses", [(2, {"type": "license", "artifact": "raw", "license": "(" * 32 + "MIT" + ")" * 32})], ok)
    rules("SPDX 33 nested parentheses", [(2, {"type": "license", "artifact": "raw", "license": "(" * 33 + "MIT" + ")" * 33})], (e, "bad-event"))
    rules("size as a float", [(2, {"type": "artifact", "id": "x", "kind": "data", "size": 3.0})], (e, "bad-event"))

    # ---- section 7: grant and revoke keys must be usable Ed25519 keys
    x, y = V.decompress(pub(3))
    mixed = (-y % P | ((-x % P) & 1) << 255).to_bytes(32, "little")  # pub(3) plus the point of order 2
    assert V.usable_key(mixed) and not nacl.bindings.crypto_core_ed25519_is_valid_point(mixed)
    non_canonical = (P + 3).to_bytes(32, "little")  # y = 3, not of small order
    assert V.usable_key(non_canonical) and not nacl.bindings.crypto_core_ed25519_is_valid_point(non_canonical)
    order_8 = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa")
    for name, raw, expect in (
        ("grant of a key that is not a point", (2).to_bytes(32, "little"), (e, "bad-event")),
        ("grant of the identity (small order)", b"\x01" + b"\0" * 31, (e, "bad-event")),
        ("grant of y = 0 (order 4)", b"\0" * 32, (e, "bad-event")),
        ("grant of a point of order 8", order_8, (e, "bad-event")),
        ("grant of the identity encoded as y = p + 1", (P + 1).to_bytes(32, "little"), (e, "bad-event")),
        ("grant of the identity with the sign bit set", b"\x01" + b"\0" * 30 + b"\x80", (e, "bad-event")),
        ("grant of a mixed-order key", mixed, ok),
        ("grant of a key encoded with y = p + 3", non_canonical, ok),
        ("grant of the same key with the sign bit set", non_canonical[:31] + b"\x80", ok),
    ):
        rules(name, [(1, {"type": "grant", "key": raw.hex(), "role": "appender"})], expect)
    rules("revoke of a key that is not a point", [(1, {"type": "revoke", "key": (2).to_bytes(32, "little").hex()})], (e, "bad-event"))
    rules("revoke of a small-order key", [(1, {"type": "revoke", "key": "01" + "00" * 31})], (e, "bad-event"))
    rules("appender grants a small-order key", [(2, {"type": "grant", "key": "01" + "00" * 31, "role": "appender"})], (e, "bad-event"))
    rules("revoke a granted mixed-order key", [(1, {"type": "grant", "key": mixed.hex(), "role": "owner"}), (1, {"type": "revoke", "key": mixed.hex()})], ok)


    # ---- section 7: lengths of ids and names (256 bytes; uri 2048)
    for n, allowed in [(256, True), (257, False)]:
        rules(f"artifact id of {n} bytes", [(2, art("a" * n))], ok if allowed else (e, "bad-event"))
        # Multi-byte characters count in bytes: 85 x 3 bytes + 1 = 256.
        rules(f"artifact id of {n} bytes in 3-byte characters", [(2, art("\u4e2d" * 85 + "a" * (n - 255)))], ok if allowed else (e, "bad-event"))
        rules(f"inline license name of {n} bytes", [(2, art("x")), (2, {"type": "license", "artifact": "x", "license": {"name": "T" * n, "terms": dict.fromkeys(V.TERMS, True)}})], ok if allowed else (e + 1, "bad-event"))
    for n, allowed in [(2048, True), (2049, False)]:
        rules(f"uri of {n} bytes", [(2, {"type": "artifact", "id": "u", "kind": "data", "uri": "h" * n})], ok if allowed else (e, "bad-event"))
    for n, allowed in [(255, True), (259, False)]:
        # `MIT AND ` repeated, ending in `MIT`: n bytes.
        reps = (n - 3) // 8
        expr = "MIT AND " * reps + "MIT"
        rules(f"license expression of {len(expr)} bytes", [(2, art("x")), (2, {"type": "license", "artifact": "x", "license": expr})], ok if allowed else (e + 1, "bad-event"))
    c = Chain(genesis=False)
    c.add({"type": "genesis", "name": "n" * 257})
    case("a genesis name of 257 bytes", c.bytes(), (0, "bad-event"))

    # ---- section 7: hidden characters in ids and names
    # Each range boundary: the code point just outside, the first and last
    # inside (U+0020 and U+007E are ordinary; U+00A0, U+2800 and U+3000
    # are spaces or blanks that are not listed, so allowed).
    hidden_ranges = [
        (0x0000, 0x001F), (0x007F, 0x009F), (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C),
        (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x2028, 0x202E),
        (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0),
        (0xFFF0, 0xFFFB), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
    ]
    points = {0x20: True, 0x7E: True, 0x09: False, 0x0A: False, 0x2065: False, 0xE0041: False,
              0x2800: True, 0x3000: True, 0x1F600: True, 0xFFFD: True}
    for lo, hi in hidden_ranges:
        points.update({lo: False, hi: False, hi + 1: True, **({lo - 1: True} if lo else {})})
    for lo, hi in hidden_ranges:  # adjacent ranges: an outside point may be inside the next
        for cp in range(lo, hi + 1):
            if cp in points:
                points[cp] = False
    boundaries = sorted(points.items())
    for cp, allowed in boundaries:
        rules(f"U+{cp:04X} in an artifact id", [(2, art(f"a{chr(cp)}b"))], ok if allowed else (e, "bad-event"))
    zw, bidi, ctl = "\u200b", "\u202e", "\x1b"
    c = Chain(genesis=False)
    c.add({"type": "genesis", "name": "ledger" + bidi})
    case("a hidden character in the genesis name", c.bytes(), (0, "bad-event"))
    c = Chain(genesis=False)
    c.add({"type": "genesis", "name": "ledger", "note": "line one\nline two" + bidi + ctl})
    case("hidden characters in the genesis note", c.bytes(), ok)
    hidden_fields = [
        ("artifact uri", {"type": "artifact", "id": "x", "kind": "data", "uri": "https://e.org/" + zw}, 2),
        ("artifact uri with a newline", {"type": "artifact", "id": "x", "kind": "data", "uri": "a\n"}, 2),
        ("artifact kind", {"type": "artifact", "id": "x", "kind": "data" + zw}, 2),
        ("artifact digest", {"type": "artifact", "id": "x", "kind": "data", "digest": "sha256:" + "0" * 63 + "\u2060"}, 2),
        ("custody artifact", {"type": "custody", "artifact": "raw" + zw, "from": "a", "to": "b"}, 2),
        ("custody from", {"type": "custody", "artifact": "raw", "from": "a\u2028b", "to": "b"}, 2),
        ("custody to", {"type": "custody", "artifact": "raw", "from": "a", "to": "b\u2066"}, 2),
        ("transformation operation", tr(["raw"], ["out"], operation="dedup\t"), 2),
        ("transformation tool", tr(["raw"], ["out"], tool="tool\ufeff"), 2),
        ("transformation input", tr(["raw", "clean" + ctl], ["out"]), 2),
        ("transformation output", tr(["raw"], ["out\u061c"]), 2),
        ("augmentation method", aug(["raw"], ["out"], method="synthetic\x7f"), 2),
        ("augmentation generator", aug(["raw"], ["out"], generator="model\u200f"), 2),
        ("license artifact", {"type": "license", "artifact": "raw\u206f", "license": "MIT"}, 2),
        ("inline license name", {"type": "license", "artifact": "raw", "license": {"name": "Terms" + bidi, "terms": dict.fromkeys(V.TERMS, True)}}, 2),
        ("release artifact", {"type": "release", "artifact": "raw\x9f", "access": "none"}, 2),
        ("release access", {"type": "release", "artifact": "raw", "access": "none\x00"}, 2),
        ("component name", comp("sft-data\u200c", artifacts=["raw"]), 1),
        ("component artifact", comp("sft-data", artifacts=["raw", "clean\u2064"]), 1),
        ("grant role", {"type": "grant", "key": k(3), "role": "appender\n"}, 1),
        ("event type", {"type": "release" + zw, "artifact": "raw", "access": "none"}, 2),
    ]
    for what, ev, by in hidden_fields:
        rules(f"a hidden character in the {what}", [(by, ev)], (e, "bad-event"))
    free_fields = [
        ("artifact description", {"type": "artifact", "id": "x", "kind": "data", "description": "a\tb\nc" + bidi + zw + "\x00"}, 2),
        ("artifact note", {"type": "artifact", "id": "x", "kind": "data", "note": ctl + "[31m red" + bidi}, 2),
        ("release note", {"type": "release", "artifact": "raw", "access": "none", "note": "\ufeff\u2028"}, 2),
        ("parameters values", tr(["raw"], ["out"], parameters={"a": "x\x00" + bidi, "b": [zw, {"c": "\x7f"}]}), 2),
        ("parameters keys", tr(["raw"], ["out"], parameters={"k" + bidi: 1, "\n": {"\u2060": True}}), 2),
        ("augmentation parameters", aug(["raw"], ["out"], parameters={"prompt": "line\nline\t" + zw}), 2),
        ("component note", comp("sft-data", artifacts=["raw"], note="\x1b" + bidi), 1),
        ("grant note", {"type": "grant", "key": k(3), "role": "appender", "note": "\u061c"}, 1),
    ]
    for what, ev, by in free_fields:
        rules(f"hidden characters allowed in the {what}", [(by, ev)], ok)
    # Digests: a file's sha256:, a directory's sha256-manifest:, nothing else.
    art_d = lambda d: {"type": "artifact", "id": "x", "kind": "data", "digest": d}  # noqa: E731
    rules("a directory's sha256-manifest: digest", [(2, art_d("sha256-manifest:" + "0f" * 32))], ok)
    for what, d in [
        ("63 digits", "sha256-manifest:" + "0" * 63),
        ("upper case", "sha256-manifest:" + "AB" * 32),
        ("another algorithm", "sha512:" + "0" * 64),
        ("a prefix of the prefix", "sha256-man:" + "0" * 64),
    ]:
        rules(f"a manifest digest of {what}", [(2, art_d(d))], (e, "bad-event"))

    # ---- section 7: custody events with a key
    cust = lambda a, n=None, **kw: {"type": "custody", "artifact": a, "from": "a", "to": "b", **({"key": k(n)} if n else {}), **kw}  # noqa: E731
    lic = lambda a, x="MIT": {"type": "license", "artifact": a, "license": x}  # noqa: E731
    relp = lambda a: {"type": "release", "artifact": a, "access": "public"}  # noqa: E731
    g3 = (1, grant(3, "appender"))
    rules("custody to a key with the appender role", [g3, (2, cust("raw", 3))], ok)
    rules("custody to an owner's key", [(2, cust("raw", 1))], ok)
    rules("custody to the signer's own key", [(2, cust("raw", 2))], ok)
    rules("custody to a key never granted", [(2, cust("raw", 4))], (e, "rule-violation"))
    rules("custody to a revoked key", [g3, (1, revoke(3)), (2, cust("raw", 3))], (e + 2, "rule-violation"))
    rules("custody to a key granted again after revocation", [g3, (1, revoke(3)), (1, grant(3, "appender")), (2, cust("raw", 3)), (3, lic("raw"))], ok)
    rules("custody key of small order", [(2, {**cust("raw"), "key": "01" + "00" * 31})], (e, "bad-event"))
    rules("custody key that is not a point", [(2, {**cust("raw"), "key": (2).to_bytes(32, "little").hex()})], (e, "bad-event"))
    rules("custody key in upper case", [g3, (2, {**cust("raw"), "key": k(3).upper()})], (e + 1, "bad-event"))
    rules("custody key of 63 digits", [g3, (2, {**cust("raw"), "key": k(3)[:63]})], (e + 1, "bad-event"))
    rules("custody key null", [(2, {**cust("raw"), "key": None})], (e, "bad-event"))
    rules("custody key of a mixed-order point, granted", [(1, {"type": "grant", "key": mixed.hex(), "role": "appender"}), (2, {**cust("raw"), "key": mixed.hex()})], ok)
    rules("custody of an undeclared artifact to a key with no role", [(2, cust("x", 4))], (e, "rule-violation"))
    rules("custody by a non-holder to a key with no role", [g3, (3, cust("raw", 4))], (e + 1, "no-authority"))
    rules("custody key of small order, by a non-holder", [g3, (3, {**cust("raw"), "key": "01" + "00" * 31})], (e + 1, "bad-event"))
    rules("custody key by bytes: granted y = p + 3, handed to y = 3", [(1, {"type": "grant", "key": non_canonical.hex(), "role": "appender"}), (2, {**cust("raw"), "key": (3).to_bytes(32, "little").hex()})], (e + 1, "rule-violation"))
    rules("custody key by bytes: granted y = p + 3, handed to y = p + 3", [(1, {"type": "grant", "key": non_canonical.hex(), "role": "appender"}), (2, {**cust("raw"), "key": non_canonical.hex()})], ok)
    rules("key identity by bytes: grant y = p + 3, revoke y = 3", [(1, {"type": "grant", "key": non_canonical.hex(), "role": "appender"}), (1, {"type": "revoke", "key": (3).to_bytes(32, "little").hex()})], (e + 1, "rule-violation"))
    rules("key identity by bytes: grant y = 3, revoke y = 3 with the sign bit set", [(1, {"type": "grant", "key": (3).to_bytes(32, "little").hex(), "role": "appender"}), (1, {"type": "revoke", "key": (3 | 1 << 255).to_bytes(32, "little").hex()})], (e + 1, "rule-violation"))
    rules("key identity by bytes: grant y = 3, revoke y = 3", [(1, {"type": "grant", "key": (3).to_bytes(32, "little").hex(), "role": "appender"}), (1, {"type": "revoke", "key": (3).to_bytes(32, "little").hex()})], ok)

    # ---- section 8: authority over artifacts
    rules("custody by the holder", [(2, cust("raw"))], ok)
    rules("custody by an owner", [(1, cust("raw"))], ok)
    rules("custody by another appender", [g3, (3, cust("raw"))], (e + 1, "no-authority"))
    rules("license by the holder", [(2, lic("raw"))], ok)
    rules("license by an owner", [(1, lic("raw"))], ok)
    rules("license by another appender", [g3, (3, lic("raw"))], (e + 1, "no-authority"))
    rules("release by the holder", [(2, relp("raw"))], ok)
    rules("release by an owner", [(1, relp("raw"))], ok)
    rules("release by another appender", [g3, (3, relp("raw"))], (e + 1, "no-authority"))
    rules("output produced by its holder", [(2, tr(["raw"], ["out"]))], ok)
    rules("output produced by an owner", [(1, tr(["raw"], ["out"]))], ok)
    rules("output produced by another appender", [g3, (3, tr(["raw"], ["out"]))], (e + 1, "no-authority"))
    rules("augmentation output by another appender", [g3, (3, aug(["raw"], ["out"]))], (e + 1, "no-authority"))
    rules("inputs and generator need no authority", [g3, (3, art("mine")), (3, aug(["raw", "clean"], ["mine"], generator="model"))], ok)
    rules("inputs and a generator held by others", [g3, (1, art("gen", "weights")), (3, art("mine")), (3, aug(["raw", "clean"], ["mine"], generator="gen"))], ok)
    rules("license by a stranger, before authority", [(3, lic("raw"))], (e, "unauthorized"))
    rules("license of an undeclared artifact by a non-holder", [g3, (3, lic("x"))], (e + 1, "rule-violation"))
    rules("a revoked holder signs", [(1, revoke(2)), (2, lic("raw"))], (e + 1, "revoked"))
    rules("an owner licenses a revoked holder's artifact", [(1, revoke(2)), (1, lic("raw"))], ok)
    rules("a holder granted again keeps its artifacts", [(1, revoke(2)), (1, grant(2, "appender")), (2, lic("raw"))], ok)
    rules("a holder promoted to owner licenses another's artifact", [g3, (3, art("x")), (1, grant(2, "owner")), (2, lic("x"))], ok)
    rules("an owner demoted to appender loses authority", [(1, grant(3, "owner")), (3, lic("raw")), (1, grant(3, "appender")), (3, lic("raw"))], (e + 3, "no-authority"))
    rules("an appender promoted to owner, then licensing", [g3, (1, grant(3, "owner")), (3, lic("raw"))], ok)
    rules("an owner declares, an appender may not license it", [(1, art("x")), (2, lic("x"))], (e + 1, "no-authority"))

    # ---- section 8: handing over
    rules("the new holder licenses", [g3, (2, cust("raw", 3)), (3, lic("raw"))], ok)
    rules("the old holder loses authority", [g3, (2, cust("raw", 3)), (2, lic("raw"))], (e + 2, "no-authority"))
    rules("the old holder may not hand it back", [g3, (2, cust("raw", 3)), (2, cust("raw", 2))], (e + 2, "no-authority"))
    rules("the new holder hands it back", [g3, (2, cust("raw", 3)), (3, cust("raw", 2)), (2, lic("raw"))], ok)
    rules("after handing back, the middle holder loses it", [g3, (2, cust("raw", 3)), (3, cust("raw", 2)), (3, relp("raw"))], (e + 3, "no-authority"))
    rules("the new holder produces it", [g3, (2, cust("out", 3)), (3, tr(["raw"], ["out"]))], ok)
    rules("the old holder may not produce it", [g3, (2, cust("out", 3)), (2, tr(["raw"], ["out"]))], (e + 2, "no-authority"))
    rules("an owner hands over another's artifact", [g3, (1, cust("raw", 3)), (3, lic("raw")), (2, lic("raw"))], (e + 3, "no-authority"))
    rules("handed to an owner, the appender loses it", [(2, cust("raw", 1)), (2, relp("raw"))], (e + 1, "no-authority"))
    rules("an owner hands its own artifact away and keeps authority", [g3, (1, art("x")), (1, cust("x", 3)), (1, lic("x")), (3, lic("x"))], ok)
    rules("custody without a key keeps the holder", [g3, (2, cust("raw")), (2, lic("raw"))], ok)
    rules("custody without a key gives nothing", [g3, (2, cust("raw")), (3, lic("raw"))], (e + 2, "no-authority"))
    rules("the new holder is revoked", [g3, (2, cust("raw", 3)), (1, revoke(3)), (3, lic("raw"))], (e + 3, "revoked"))
    rules("the new holder is revoked, the old holder still has none", [g3, (2, cust("raw", 3)), (1, revoke(3)), (2, lic("raw"))], (e + 3, "no-authority"))
    rules("hand-over to a key revoked in between", [g3, (1, revoke(3)), (2, cust("raw", 3))], (e + 2, "rule-violation"))

    # ---- section 8: components are the owners'
    rules("an appender assigns a component", [(2, comp("sft-data", artifacts=["raw"]))], (e, "unauthorized"))
    rules("an appender declares a component not applicable", [(2, comp("sft-data", applicable=False))], (e, "unauthorized"))
    rules("an appender assigns a component of the wrong kind", [(2, comp("weights", artifacts=["raw"]))], (e, "unauthorized"))
    rules("an appender replaces a component", [(1, comp("sft-data", artifacts=["raw"])), (2, comp("sft-data", artifacts=["clean"], replace=True))], (e + 1, "unauthorized"))
    rules("a stranger assigns a component", [(3, comp("sft-data", artifacts=["raw"]))], (e, "unauthorized"))
    rules("a revoked owner assigns a component", [(1, grant(3, "owner")), (1, revoke(3)), (3, comp("sft-data", artifacts=["raw"]))], (e + 2, "revoked"))
    rules("an owner assigns an appender's artifacts", [(1, comp("sft-data", artifacts=["raw", "clean"]))], ok)
    rules("a second owner assigns", [(1, grant(3, "owner")), (3, comp("weights", artifacts=["model"]))], ok)
    rules("replace", [(1, comp("sft-data", artifacts=["raw"])), (1, comp("sft-data", artifacts=["clean"], replace=True))], ok)
    rules("replace a component never assigned", [(1, comp("sft-data", artifacts=["clean"], replace=True))], ok)
    rules("replace a component not applicable", [(1, comp("sft-data", applicable=False)), (1, comp("sft-data", artifacts=["raw"], replace=True))], ok)
    rules("not applicable after a replace", [(1, comp("sft-data", artifacts=["raw"], replace=True)), (1, comp("sft-data", applicable=False))], ok)
    rules("replace false", [(1, comp("sft-data", artifacts=["raw"], replace=False))], (e, "bad-event"))
    rules("replace as text", [(1, comp("sft-data", artifacts=["raw"], replace="true"))], (e, "bad-event"))
    rules("replace 1", [(1, comp("sft-data", artifacts=["raw"], replace=1))], (e, "bad-event"))
    rules("replace null", [(1, comp("sft-data", artifacts=["raw"], replace=None))], (e, "bad-event"))
    rules("replace with applicable", [(1, comp("sft-data", applicable=False, replace=True))], (e, "bad-event"))
    rules("replace alone", [(1, comp("sft-data", replace=True))], (e, "bad-event"))
    rules("replace with both forms", [(1, comp("sft-data", artifacts=["raw"], applicable=False, replace=True))], (e, "bad-event"))
    rules("replace with the wrong kind", [(1, comp("sft-data", artifacts=["raw"])), (1, comp("sft-data", artifacts=["model"], replace=True))], (e + 1, "rule-violation"))
    rules("replace with an undeclared artifact", [(1, comp("sft-data", artifacts=["raw"])), (1, comp("sft-data", artifacts=["x"], replace=True))], (e + 1, "rule-violation"))
    rules("replace with one artifact of the wrong kind among good ones", [(1, comp("sft-data", artifacts=["raw", "code"], replace=True))], (e, "rule-violation"))
    rules("component kind checked when not applicable before", [(1, comp("weights", applicable=False)), (1, comp("weights", artifacts=["raw"]))], (e + 1, "rule-violation"))
    rules("replace false by an appender", [(2, comp("sft-data", artifacts=["raw"], replace=False))], (e, "bad-event"))

    # ---- section 8: lineage follows declaration order
    rules("input declared before the output", [(2, art("late")), (2, tr(["raw"], ["late"]))], ok)
    rules("input declared after the output", [(2, art("late")), (2, tr(["late"], ["raw"]))], (e + 1, "rule-violation"))
    rules("one of two inputs declared after the output", [(2, tr(["raw", "out"], ["clean"]))], (e, "rule-violation"))
    rules("generator declared before the output", [(2, art("late")), (2, aug(["raw"], ["late"], generator="model"))], ok)
    rules("generator declared after the output, inputs before", [(2, art("gen", "weights")), (2, aug(["raw"], ["clean"], generator="gen"))], (e + 1, "rule-violation"))
    rules("one of two outputs declared before a parent", [(2, art("late")), (2, tr(["clean"], ["late", "raw"]))], (e + 1, "rule-violation"))
    rules("a chain in declaration order", [(2, tr(["raw"], ["clean"])), (2, tr(["clean"], ["out"])), (2, aug(["out"], ["code"], generator="model"))], ok)
    rules("the generator also an input, declared before", [(2, art("late")), (2, aug(["model"], ["late"], generator="model"))], ok)
    rules("a weights output from its own generator", [(2, art("w2", "weights")), (2, aug(["raw"], ["w2"], generator="w2"))], (e + 1, "rule-violation"))
    rules("an output produced before, then a later parent", [(2, tr(["raw"], ["out"])), (2, art("late")), (2, tr(["late"], ["out"]))], (e + 2, "rule-violation"))

    # ---- section 8: the order of the checks on outputs
    rules("first output fine, second not the signer's", [g3, (3, art("mine")), (3, tr(["raw"], ["mine", "out"]))], (e + 2, "no-authority"))
    rules("an output not the signer's, with a parent declared after it", [g3, (3, art("mine")), (3, tr(["mine"], ["out"]))], (e + 2, "no-authority"))
    rules("first output's parent later, second not the signer's", [g3, (3, art("mine")), (2, art("late")), (3, tr(["late"], ["mine", "raw"]))], (e + 3, "rule-violation"))
    rules("first output not the signer's, second undeclared", [g3, (3, tr(["raw"], ["out", "x"]))], (e + 1, "no-authority"))
    rules("an undeclared input and an output not the signer's", [g3, (3, tr(["x"], ["out"]))], (e + 1, "rule-violation"))
    rules("a generator not weights and an output not the signer's", [g3, (3, aug(["raw"], ["out"], generator="clean"))], (e + 1, "rule-violation"))
    rules("an output produced twice and not the signer's", [g3, (2, tr(["raw"], ["out"])), (3, tr(["raw"], ["out"]))], (e + 2, "no-authority"))
    rules("an output that is its own input, not the signer's", [g3, (3, tr(["out"], ["out"]))], (e + 1, "no-authority"))
    rules("an output produced twice, by its holder", [(2, tr(["raw"], ["out"])), (2, tr(["raw"], ["out"]))], (e + 1, "rule-violation"))

def build_partial_cases():
    """TRANSPARENCY.md section 7.2 edge cases."""
    ok = "valid"
    c = pbase()
    size = len(c.entries)  # 11
    last = size - 1
    origin = origin_of(c.name, c.id)
    root = mth([leaf(x) for x in c.entries])
    W = {4}  # the license of `raw` withheld

    def pcase(name, expect, withheld=W, owner=None, pinned=None, chain=None, **o):
        ch = chain or c
        n = 0 if expect != ok else len(withheld)
        case("partial: " + name, partial(ch, withheld, **o), expect, owner=owner, pinned=pinned, withheld=n)

    # ---- valid exports
    pcase("one entry withheld", ok)
    pcase("nothing withheld", ok, withheld=set())
    pcase("two consecutive entries withheld", ok, withheld={4, 5})
    pcase("every entry a disclosed one does not need withheld", ok, withheld={4, 5, 7, 9})
    pcase("several selectors", ok, selectors=["type:license", "artifact:raw", "component:weights", "openness"])
    pcase("a selector of every event type", ok, selectors=[f"type:{t}" for t in V.EVENTS])
    pcase("a selector of every component", ok, selectors=[f"component:{n}" for n in V.COMPONENT_KIND])
    pcase("owner pinned", ok, owner=pub(1), pinned=True)
    pcase("owner pinned to another key", (0, "owner-mismatch"), owner=pub(2), pinned=False)
    pcase("owner pinned, bad header", (0, "bad-disclosure"), owner=pub(1), pinned=False, hdr={"format": "x"})
    pcase("owner pinned, last entry withheld", (last, "bad-disclosure"), withheld={4, last}, owner=pub(1), pinned=True)

    # ---- step 1: the header (bad-disclosure at 0)
    for k in ("format", "publisher", "signature", "statement", "checkpoint"):
        pcase(f"header without {k}", (0, "bad-disclosure"), hdr={k: DELETE})
    pcase("header with an extra key", (0, "bad-disclosure"), hdr={"x": 0})
    pcase("header with a sixth key sorting first", (0, "bad-disclosure"), hdr={"a": ""})
    pcase("format custody-partial/v1", (0, "bad-disclosure"), hdr={"format": "custody-partial/v1"})
    pcase("format with a trailing space", (0, "bad-disclosure"), hdr={"format": PARTIAL_FORMAT + " "})
    pcase("format in upper case", (0, "bad-disclosure"), hdr={"format": PARTIAL_FORMAT.upper()})
    pcase("format as bytes", (0, "bad-disclosure"), hdr={"format": PARTIAL_FORMAT.encode()})
    pcase("publisher as text", (0, "bad-disclosure"), hdr={"publisher": pub(1).hex()})
    pcase("publisher of 31 bytes", (0, "bad-disclosure"), hdr={"publisher": pub(1)[:31]})
    pcase("publisher of 33 bytes", (0, "bad-disclosure"), hdr={"publisher": pub(1) + b"\0"})
    pcase("publisher not a curve point", (0, "bad-disclosure"), hdr={"publisher": (2).to_bytes(32, "little")})
    pcase("signature of 63 bytes", (0, "bad-disclosure"), hdr={"signature": b"\0" * 63})
    pcase("signature as text", (0, "bad-disclosure"), hdr={"signature": "00" * 64})
    pcase("statement as text", (0, "bad-disclosure"), hdr={"statement": "statement"})
    pcase("statement as a map, not bytes", (0, "bad-disclosure"), hdr={"statement": {"size": size}})
    pcase("checkpoint as bytes", (0, "bad-disclosure"), hdr={"checkpoint": b"note"})
    pcase("checkpoint null", (0, "bad-disclosure"), hdr={"checkpoint": None})
    good_header = partial(c, W, items=[])
    assert good_header[:1] == b"\xa5"
    items = [withheld_item(x) if i in W else x for i, x in enumerate(c.entries)]
    # `format` sorts first; putting it after `publisher` breaks the order.
    fmt = enc("format") + enc(PARTIAL_FORMAT)
    rest = good_header[1 + len(fmt):]
    pub_kv = enc("publisher") + enc(pub(1))
    assert good_header[1:1 + len(fmt)] == fmt and rest.startswith(pub_kv)
    pcase("header keys out of order", (0, "bad-disclosure"), hdr_bytes=b"\xa5" + pub_kv + fmt + rest[len(pub_kv):])
    pcase("header key repeated", (0, "bad-disclosure"), hdr_bytes=b"\xa6" + fmt + fmt + rest)
    pcase("header as an indefinite-length map", (0, "bad-disclosure"), hdr_bytes=b"\xbf" + good_header[1:] + b"\xff")
    pcase("header length in a longer head", (0, "bad-disclosure"), hdr_bytes=b"\xb8\x05" + good_header[1:])
    pcase("header with a tag on the format", (0, "bad-disclosure"), hdr={"format": Raw(b"\xc0" + enc(PARTIAL_FORMAT))})
    pcase("header with text that is not UTF-8", (0, "bad-disclosure"), hdr={"checkpoint": Raw("62c328")})
    pcase("header with an unassigned simple value", (0, "bad-disclosure"), hdr={"x": Raw("e0")})
    pcase("header with a float in a longer form", (0, "bad-disclosure"), hdr={"x": Raw("fa3f800000")})
    pcase("header nested 49 levels", (0, "bad-disclosure"), hdr={"x": Raw(nested(48))})
    pcase("header an empty map", (0, "bad-disclosure"), hdr_bytes=b"\xa0")
    pcase("file ends inside the header", (0, "bad-disclosure"), hdr_bytes=good_header[:-5], items=[])
    pcase("file ends after the header's first byte", (0, "bad-disclosure"), hdr_bytes=b"\xa5", items=[])
    case("partial: a tag around the header makes a whole export", b"\xd9\xd9\xf7" + partial(c, W), (0, "malformed"))
    case("partial: a header that is an array is a whole export", b"\x85" + good_header[1:] + b"".join(items), (0, "malformed"))

    def sized(total):
        """Pads the note with an ignored cosignature line so that the
        header is exactly `total` bytes."""
        line = lambda pad: f"\u2014 {'w' * pad} {b64(b'abcd')}\n"  # noqa: E731
        start = total - len(partial(c, W, note_extra=line(0), items=[]))
        for pad in range(start - 8, start + 1):
            if len(partial(c, W, note_extra=line(pad), items=[])) == total:
                return line(pad)
        raise ValueError(total)

    pcase("a header of exactly 65536 bytes", ok, note_extra=sized(65536))
    pcase("a header of 65537 bytes", (0, "bad-disclosure"), note_extra=sized(65537))

    # ---- step 1: the statement and its signature
    st_bytes = enc({"map": sha(MAP_DOMAIN + bytes([0b11101111, 0b111])), "root": root, "size": size, "origin": origin, "selectors": ["openness"]})
    pcase("the statement's signature with one bit changed", (0, "bad-disclosure"), signature=(lambda s: s[:5] + bytes([s[5] ^ 1]) + s[6:])(key(1).sign(STATEMENT_DOMAIN + st_bytes).signature))
    pcase("the statement signed by another key", (0, "bad-disclosure"), signature=key(2).sign(STATEMENT_DOMAIN + st_bytes).signature)
    pcase("the statement signed without its domain", (0, "bad-disclosure"), signature=key(1).sign(st_bytes).signature)
    pcase("the statement signed with the entry domain", (0, "bad-disclosure"), signature=key(1).sign(V.SIGNATURE_DOMAIN + st_bytes).signature)
    pcase("the statement changed after signing", (0, "bad-disclosure"), signature=key(1).sign(STATEMENT_DOMAIN + st_bytes).signature, st={"selectors": ["artifact:raw"]})
    pcase("the statement signed over its expected bytes", ok, signature=key(1).sign(STATEMENT_DOMAIN + st_bytes).signature)
    assert st_bytes[:1] == b"\xa5"
    mkv = enc("map") + enc(sha(MAP_DOMAIN + bytes([0b11101111, 0b111])))
    pcase("statement keys out of order", (0, "bad-disclosure"), st_bytes=b"\xa5" + st_bytes[1 + len(mkv):] + mkv)
    pcase("statement with a trailing byte", (0, "bad-disclosure"), st_bytes=st_bytes + b"\x00")
    pcase("statement truncated", (0, "bad-disclosure"), st_bytes=st_bytes[:-1])
    pcase("statement as an indefinite-length map", (0, "bad-disclosure"), st_bytes=b"\xbf" + st_bytes[1:] + b"\xff")
    pcase("statement an array", (0, "bad-disclosure"), st_bytes=enc([1]))
    for k in ("map", "root", "size", "origin", "selectors"):
        pcase(f"statement without {k}", (0, "bad-disclosure"), st={k: DELETE})
    pcase("statement with an extra key", (0, "bad-disclosure"), st={"x": 0})
    pcase("statement size as text", (0, "bad-disclosure"), st={"size": "11"})
    pcase("statement size negative", (0, "bad-disclosure"), st={"size": -11})
    pcase("statement size as a float", (0, "bad-disclosure"), st={"size": 11.0})
    pcase("statement size as a bignum", (0, "bad-disclosure"), st={"size": Raw("c2410b")})
    pcase("statement root of 31 bytes", (0, "bad-disclosure"), st={"root": root[:31]})
    pcase("statement map of 33 bytes", (0, "bad-disclosure"), st={"map": b"\0" * 33})
    pcase("statement map null", (0, "bad-disclosure"), st={"map": None})
    pcase("statement origin as bytes", (0, "bad-disclosure"), st={"origin": origin.encode()})
    pcase("selectors empty", (0, "bad-disclosure"), selectors=[])
    pcase("selectors a text, not an array", (0, "bad-disclosure"), st={"selectors": "openness"})
    pcase("a selector that is a number", (0, "bad-disclosure"), selectors=["openness", 1])
    for sel in ("bogus", "component:nothing", "component:Weights", "type:", "artifact:", "component:", "openness ", "OPENNESS", "openness:x", ""):
        pcase(f"selector {sel!r} does not parse", (0, "bad-disclosure"), selectors=[sel])
    pcase("one bad selector among good ones", (0, "bad-disclosure"), selectors=["openness", "type:license", "nope"])

    # ---- step 1: the checkpoint note
    text = f"{origin}\n{size}\n{b64(root)}\n"
    good_line = note_line(text, origin, 1)
    raw_sig = base64.b64decode(good_line.split(" ")[-1])
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    def bump(s):
        """The same bytes with non-zero padding bits (one '=' of padding)."""
        assert s.endswith("=") and not s.endswith("==")
        return s[:-2] + alphabet[alphabet.index(s[-2]) + 1] + "="

    assert base64.b64decode(bump(b64(raw_sig))) == raw_sig
    pcase("checkpoint signed by another key", (0, "bad-disclosure"), note_by=2)
    pcase("checkpoint signed under another name", (0, "bad-disclosure"), note_name="example.com/log")
    pcase("checkpoint of another size", (0, "bad-disclosure"), note_size=size - 1)
    pcase("checkpoint of another root", (0, "bad-disclosure"), note_root=mth([leaf(x) for x in c.entries[:-1]]))
    pcase("checkpoint of another origin, signed under the statement's", (0, "bad-disclosure"), note_origin="example.com/log")
    pcase("statement of another origin, note of the right one", (0, "bad-disclosure"), st={"origin": "example.com/log"}, note_name="example.com/log")
    pcase("statement of another size than the note", (0, "bad-disclosure"), st={"size": size + 1})
    pcase("statement of another root than the note", (0, "bad-disclosure"), st={"root": b"\0" * 32})
    pcase("checkpoint signature with non-zero padding bits", (0, "bad-disclosure"), note=text + "\n" + f"\u2014 {origin} {bump(b64(raw_sig))}\n")
    pcase("checkpoint signature without its padding", (0, "bad-disclosure"), note=text + "\n" + f"\u2014 {origin} {b64(raw_sig).rstrip('=')}\n")
    pcase("checkpoint text changed after signing", (0, "bad-disclosure"), note=text + "extension\n\n" + good_line)
    pcase("checkpoint without signature lines", (0, "bad-disclosure"), note=text + "\n")
    pcase("checkpoint without the blank line", (0, "bad-disclosure"), note=text + good_line)
    pcase("checkpoint ending in a control character", (0, "bad-disclosure"), note=text + "\n" + good_line[:-1] + "\x0b")
    pcase("checkpoint with a carriage return", (0, "bad-disclosure"), note=text + "\n" + good_line[:-1] + "\r\n")
    pcase("checkpoint size with a leading zero", (0, "bad-disclosure"), note_text=f"{origin}\n0{size}\n{b64(root)}\n")
    pcase("checkpoint size beyond 64 bits", (0, "bad-disclosure"), note_text=f"{origin}\n{2**64 + size}\n{b64(root)}\n")
    pcase("checkpoint with an empty line in its text", (0, "bad-disclosure"), note_text=f"{origin}\n{size}\n{b64(root)}\n\nextension\n")
    pcase("checkpoint with an extension line", ok, note_text=f"{origin}\n{size}\n{b64(root)}\nextension\n")
    pcase("checkpoint cosigned by a witness", ok, note_extra=note_line(text, "witness.example/w1", 5))
    pcase("checkpoint cosigned by a key of the same name, another id", ok, note_extra=note_line(text, origin, 5))
    pcase("checkpoint cosignature with non-zero padding bits", (0, "bad-disclosure"), note_extra=f"\u2014 witness.example/w1 {bump(b64(base64.b64decode(note_line(text, 'witness.example/w1', 5).split(' ')[-1])))}\n")
    bad_sig = raw_sig[:10] + bytes([raw_sig[10] ^ 1]) + raw_sig[11:]
    pcase("a second, bad signature by the publisher", (0, "bad-disclosure"), note_extra=f"\u2014 {origin} {b64(bad_sig)}\n")
    pcase("the publisher's signature in a note line with a hyphen", (0, "bad-disclosure"), note=text + "\n" + good_line.replace("\u2014", "-"))

    # ---- step 2: the items
    def items_with(pos, item, withheld=W):
        xs = [withheld_item(x) if i in withheld else x for i, x in enumerate(c.entries)]
        xs[pos] = item
        return xs

    lf = leaf(c.entries[4])
    pcase("a 31-byte withheld hash", (4, "malformed"), items=items_with(4, b"\x58\x1f" + lf[:31]))
    pcase("a 33-byte withheld hash", (4, "malformed"), items=items_with(4, b"\x58\x21" + lf + b"\0"))
    pcase("a withheld hash in a longer head", (4, "malformed"), items=items_with(4, b"\x59\x00\x20" + lf))
    pcase("a withheld hash as a short byte string", (4, "malformed"), items=items_with(4, b"\x40"))
    pcase("a withheld hash as text", (4, "malformed"), items=items_with(4, b"\x78\x20" + lf))
    pcase("a withheld hash as a map", (4, "malformed"), items=items_with(4, b"\xa0"))
    pcase("an item that is a one-element array", (4, "malformed"), items=items_with(4, b"\x81" + c.entries[4][1:]))
    pcase("an item that is a three-element array", (4, "malformed"), items=items_with(4, b"\x83" + c.entries[4][1:]))
    pcase("an item that is a tag", (4, "malformed"), items=items_with(4, b"\xc0" + c.entries[4]))
    pcase("the file ends after 58", (last, "malformed"), withheld={4, last}, items=items_with(last, b"\x58", {4, last}))
    pcase("the file ends after 58 20", (last, "malformed"), withheld={4, last}, items=items_with(last, b"\x58\x20", {4, last}))
    pcase("the file ends inside a withheld hash", (last, "malformed"), withheld={4, last}, items=items_with(last, withheld_item(c.entries[last])[:-1], {4, last}))
    pcase("the file ends inside the last entry", (last, "malformed"), items=items_with(last, c.entries[last][:-1]))
    pcase("an entry declaring a body too large", (4, "too-large"), items=items_with(4, b"\x82\x5a\x00\x01\x00\x00"))
    pcase("a disclosed entry changed", (5, "bad-signature"), items=items_with(5, c.entries[5][:-1] + bytes([c.entries[5][-1] ^ 1])))
    pcase("the genesis withheld", (0, "bad-genesis"), withheld={0})
    pcase("the genesis withheld, and the publisher not an owner", (0, "bad-genesis"), withheld={0}, by=2)
    pcase("the genesis as a 31-byte hash", (0, "malformed"), withheld={0}, items=items_with(0, b"\x58\x1f" + leaf(c.entries[0])[:31], {0}))
    pcase("the genesis withheld, more items than the size", (0, "bad-genesis"), withheld={0}, tail=c.entries[-1])
    pcase("the last entry withheld", (last, "bad-disclosure"), withheld={4, last})
    pcase("only the genesis disclosed", (last, "bad-disclosure"), withheld=set(range(1, size)))
    pcase("one item more: an entry", (size, "bad-disclosure"), tail=c.entries[-1])
    pcase("one item more: a withheld hash", (size, "bad-disclosure"), tail=withheld_item(c.entries[-1]))
    pcase("one stray byte after the items", (size, "bad-disclosure"), tail=b"\x82")
    pcase("one stray zero byte after the items", (size, "bad-disclosure"), tail=b"\x00")
    pcase("one item fewer", (last, "bad-disclosure"), items=[withheld_item(x) if i in W else x for i, x in enumerate(c.entries[:-1])])
    pcase("one item fewer, the last one given withheld", (last, "bad-disclosure"), withheld={4, last - 1}, items=[withheld_item(x) if i in (4, last - 1) else x for i, x in enumerate(c.entries[:-1])])
    pcase("no items", (0, "empty"), items=[])
    pcase("only the genesis", (1, "bad-disclosure"), items=[c.entries[0]])
    pcase("a withheld grant", (7, "bad-roles"), withheld={6})
    pcase("a withheld revoke", (9, "bad-roles"), withheld={8})
    pcase("a withheld grant, all later entries withheld but the last", (last, "bad-roles"), withheld={6, 7, 8, 9})
    pcase("a withheld grant and its grantee's entry", (8, "bad-roles"), withheld={6, 7})
    pcase("a re-redacted entry", (size, "bad-disclosure"), items=items_with(5, withheld_item(c.entries[5])))
    pcase("an entry disclosed that the statement withholds", (size, "bad-disclosure"), withheld={4, 5}, items=items_with(5, c.entries[5], {4, 5}))
    pcase("a forged withheld hash", (size, "bad-disclosure"), items=items_with(4, b"\x58\x20" + b"\0" * 32))
    pcase("two withheld hashes swapped", (size, "bad-disclosure"), withheld={4, 5}, items=items_with(5, withheld_item(c.entries[4]), {4, 5})[:4] + [withheld_item(c.entries[5]), withheld_item(c.entries[4])] + c.entries[6:])
    fork = pbase()
    fork.entries = fork.entries[:4]
    fork.roles = 2
    fork.add({"type": "license", "artifact": "raw", "license": "Apache-2.0"}, by=2)
    pcase("an entry from a fork before a withheld one", (size, "bad-disclosure"), withheld={5}, items=items_with(4, fork.entries[4], {5}))
    pcase("an entry from a fork before a disclosed one", (5, "bad-prev"), withheld=set(), items=items_with(4, fork.entries[4], set()))

    # ---- step 2: entries after withheld ones
    broken = pbase()
    broken.entries = broken.entries[:5]
    broken.roles = 2
    broken.add({"type": "release", "artifact": "raw", "access": "public"}, by=2, prev=b"\1" * 32)
    for ev, by in (({"type": "grant", "key": pub(3).hex(), "role": "appender"}, 1), ({"type": "artifact", "id": "other", "kind": "data"}, 3)):
        broken.add(ev, by=by)
    pcase("a wrong prev after a withheld entry is not checked", ok, withheld={4}, chain=broken)
    pcase("a wrong prev after a disclosed entry", (5, "bad-prev"), withheld={3}, chain=broken)
    junk = pbase()
    junk.entries = junk.entries[:4] + [b"not an entry at all"]
    junk.roles = 2
    for ev, by in (({"type": "release", "artifact": "raw", "access": "public"}, 2), ({"type": "artifact", "id": "x", "kind": "data"}, 2)):
        junk.add(ev, by=by)
    pcase("a withheld item hides bytes that are no entry", ok, withheld={4}, chain=junk)
    pcase("the same bytes disclosed", (4, "malformed"), withheld=set(), chain=junk)
    seqs = pbase()
    seqs.entries = seqs.entries[:5]
    seqs.roles = 2
    seqs.add({"type": "release", "artifact": "raw", "access": "public"}, by=2, seq=4)
    seqs.add({"type": "artifact", "id": "x", "kind": "data"}, by=2)
    pcase("a wrong seq after a withheld entry", (5, "bad-sequence"), withheld={4}, chain=seqs)
    spliced = pbase()
    spliced.entries = spliced.entries[:5]
    spliced.roles = 2
    spliced.add({"type": "release", "artifact": "raw", "access": "public"}, by=2, ledger=b"\1" * 32)
    spliced.add({"type": "artifact", "id": "x", "kind": "data"}, by=2)
    pcase("another ledger id after a withheld entry", (5, "bad-ledger-id"), withheld={4}, chain=spliced)

    # ---- step 2: the rules apply to the disclosed entries alone
    pcase("an artifact's declaration withheld", (4, "rule-violation"), withheld={2})
    pcase("a release of an artifact declared in a withheld entry", (last, "rule-violation"), withheld={3})
    h = Chain("Hand Over")
    h.add({"type": "grant", "key": pub(2).hex(), "role": "appender"})
    h.add({"type": "grant", "key": pub(3).hex(), "role": "appender"})
    h.add({"type": "artifact", "id": "raw", "kind": "data"}, by=2)
    h.add({"type": "custody", "artifact": "raw", "from": "a", "to": "b", "key": pub(3).hex()}, by=2)  # 4
    h.add({"type": "license", "artifact": "raw", "license": "MIT"}, by=3)  # 5
    h.add({"type": "release", "artifact": "raw", "access": "public"}, by=1)
    pcase("a hand-over disclosed", ok, withheld=set(), chain=h)
    pcase("a hand-over withheld: its new holder has no authority", (5, "no-authority"), withheld={4}, chain=h)
    twice = Chain("Twice")
    twice.add({"type": "grant", "key": pub(2).hex(), "role": "appender"})
    twice.add({"type": "artifact", "id": "raw", "kind": "data"}, by=2)
    twice.add({"type": "artifact", "id": "raw", "kind": "data"}, by=2)
    twice.add({"type": "release", "artifact": "raw", "access": "none"}, by=2)
    pcase("an id declared twice, the first declaration withheld", ok, withheld={2}, chain=twice)
    pcase("an id declared twice, both disclosed", (3, "rule-violation"), withheld=set(), chain=twice)

    # ---- step 3: the whole
    pcase("published by an appender", (size, "bad-disclosure"), by=2)
    pcase("published by a revoked appender", (size, "bad-disclosure"), by=3)
    pcase("published by a key never granted", (size, "bad-disclosure"), by=5)
    owners = pbase()
    owners.add({"type": "grant", "key": pub(4).hex(), "role": "owner"})
    owners.add({"type": "revoke", "key": pub(1).hex()})
    owners.add({"type": "release", "artifact": "raw", "access": "none"}, by=4)
    pcase("published by an owner granted later", ok, by=4, chain=owners)
    pcase("published by the revoked first owner", (len(owners.entries), "bad-disclosure"), by=1, chain=owners)
    pcase("published by an owner granted later, its grant withheld", (len(owners.entries) - 2, "bad-roles"), withheld={len(owners.entries) - 3}, by=4, chain=owners)
    demoted = pbase()
    demoted.add({"type": "grant", "key": pub(4).hex(), "role": "owner"})
    demoted.add({"type": "grant", "key": pub(1).hex(), "role": "appender"})
    demoted.add({"type": "release", "artifact": "raw", "access": "none"}, by=4)
    pcase("published by a demoted owner", (len(demoted.entries), "bad-disclosure"), by=1, chain=demoted)
    pcase("a foreign origin", (size, "foreign-checkpoint"), st={"origin": "example.com/log"}, note_origin="example.com/log", note_name="example.com/log")
    pcase("a foreign origin, published by an appender", (size, "bad-disclosure"), by=2, st={"origin": "example.com/log"}, note_origin="example.com/log", note_name="example.com/log")
    pcase("a foreign origin, last entry withheld", (last, "bad-disclosure"), withheld={4, last}, st={"origin": "example.com/log"}, note_origin="example.com/log", note_name="example.com/log")
    pcase("a foreign origin and a forged hash", (size, "bad-disclosure"), st={"origin": "example.com/log"}, note_origin="example.com/log", note_name="example.com/log", items=items_with(4, b"\x58\x20" + b"\0" * 32))
    kelvin = Chain("\u212aelvin-Net \u0130")
    kelvin.add({"type": "grant", "key": pub(2).hex(), "role": "appender"})
    kelvin.add({"type": "artifact", "id": "raw", "kind": "data"}, by=2)
    k_origin = origin_of(kelvin.name, kelvin.id)
    assert k_origin.startswith("custody/elvin-net/"), k_origin
    pcase("the default origin lowercases ASCII only", ok, withheld=set(), chain=kelvin)
    wrong = "custody/kelvin-net-i/" + kelvin.id.hex()[:16]
    pcase("an origin lowercased with Unicode rules is foreign", (3, "foreign-checkpoint"), withheld=set(), chain=kelvin, st={"origin": wrong}, note_origin=wrong, note_name=wrong)
    upper = "custody/ELVIN-NET/" + kelvin.id.hex()[:16]
    pcase("an origin in upper case is foreign", (3, "foreign-checkpoint"), withheld=set(), chain=kelvin, st={"origin": upper}, note_origin=upper, note_name=upper)
    empty = Chain("Empty")
    pcase("size 0, no items", (0, "empty"), chain=empty, withheld=set(), items=[], st={"size": 0, "root": sha(b""), "map": sha(MAP_DOMAIN)}, note_size=0, note_root=sha(b""))
    pcase("size 0, one item", (0, "bad-disclosure"), chain=empty, withheld=set(), st={"size": 0, "root": sha(b""), "map": sha(MAP_DOMAIN)}, note_size=0, note_root=sha(b""))
    pcase("size 0, one withheld item", (0, "bad-disclosure"), chain=empty, withheld=set(), items=[withheld_item(empty.entries[0])], st={"size": 0, "root": sha(b""), "map": sha(MAP_DOMAIN)}, note_size=0, note_root=sha(b""))
    pcase("a one-entry ledger", ok, chain=empty, withheld=set())
    nine = pbase()
    nine.entries = nine.entries[:8]
    nine.roles = 3
    nine.add({"type": "revoke", "key": pub(3).hex()})
    pcase("a map of two bytes, bit 8 withheld", (8, "bad-disclosure"), withheld={8}, chain=nine)
    pcase("a map of two bytes", ok, withheld={4, 7}, chain=nine)

# ------------------------------------------------------------- running


def cli_verdict(binary, path, owner):
    args = [str(binary), "verify", "--json", str(path)]
    if owner is not None:
        args += ["--owner", owner.hex()]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if r.returncode not in (0, 1):
        return {"exit": r.returncode, "stderr": r.stderr.strip()}
    return json.loads(r.stdout)


def comparable(verdict):
    # `source` names the file each verifier was given; the verdicts are
    # compared without it.
    v = {k: x for k, x in verdict.items() if k != "source"}
    if "error" in v:
        v["error"] = {k: x for k, x in v["error"].items() if k != "detail"}
    return v


def summary(verdict):
    if verdict.get("valid"):
        return f"valid ({verdict['entries']} entries, {verdict.get('withheld')} withheld)"
    if "error" in verdict:
        return f"{verdict['error']['reason']} at {verdict['error']['seq']} (entries {verdict.get('entries')})"
    return f"exit {verdict.get('exit')}: {verdict.get('stderr')}"


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    binary = Path(argv[0])
    build_cases()
    build_partial_cases()
    failures = 0
    with tempfile.TemporaryDirectory(prefix="custody-diff-") as tmp:
        for n, (name, data, expect, owner, pinned, withheld) in enumerate(CASES, 1):
            path = Path(tmp) / f"case-{n}.ledger"
            path.write_bytes(data)
            rust = comparable(cli_verdict(binary, path, owner))
            python = comparable(V.verify(data, owner))
            if expect == "valid":
                documented = rust.get("valid") is True and rust.get("withheld") == withheld
                want = "valid" + (f", {withheld} withheld" if withheld else "")
            else:
                # FORMAT.md section 11: entries is always the error's seq.
                documented = rust.get("error") == {"seq": expect[0], "reason": expect[1]} and rust.get("entries") == expect[0]
                want = f"{expect[1]} at {expect[0]}"
            if pinned is not None:
                want += f", pinned {str(pinned).lower()}"
                if rust.get("pinned") is not pinned:
                    documented = False
            problems = []
            if not documented:
                problems.append(f"custody says {summary(rust)}, the documents say {want}")
            if rust != python:
                problems.append(f"verify.py says {summary(python)}" + ("" if summary(rust) != summary(python) else f" ({python} != {rust})"))
            if problems:
                failures += 1
                print(f"FAIL  {n:3} {name}: " + "; ".join(problems))
            else:
                print(f"ok    {n:3} {name}: {want}")
    print(f"{len(CASES) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
