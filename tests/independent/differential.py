#!/usr/bin/env python3
"""Edge cases of schemas/FORMAT.md, run through both verifiers.

Usage: differential.py PATH/TO/custody

Builds about 240 small ledgers that probe the corners of the format (the
deterministic CBOR rules, tags, nesting limits, the body schema, framing and
size limits, check order, signatures, usable keys, SPDX expressions, every
ledger rule, the `pinned` field), each with the verdict FORMAT.md says it
must get. Each ledger is verified by
`custody verify --json` and by verify.py (beside this script); the two
verdicts must be identical (valid, entries, head, owner, ledger, name,
pinned, error seq and reason) and must be the documented one. Prints one
line per case and exits 1 on any disagreement.

Entries are signed here with PyNaCl from fixed, public test seeds.
"""

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
    unless told otherwise."""

    def __init__(self, name="edge cases"):
        self.entries = []
        self.add({"type": "genesis", "name": name})

    @property
    def head(self):
        return V.entry_hash(self.entries[-1]) if self.entries else None

    @property
    def id(self):
        return V.entry_hash(self.entries[0]) if self.entries else None

    def body(self, event, by=1, **fields):
        seq = len(self.entries)
        b = {
            "v": 1,
            "seq": seq,
            "prev": self.head,
            "time": T0 + seq,
            "event": event,
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


CASES = []


def case(name, data, expect, owner=None, pinned=None):
    """expect: "valid", or (seq, reason); pinned, when given, the `pinned`
    field FORMAT.md section 11 gives."""
    CASES.append((name, data, expect, owner, pinned))


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
        c.add(fields.pop("event", {"type": "release", "artifact": "raw", "access": "none"}), by=2, **fields)
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
    body_case("version 2", (e, "unsupported-version"), v=2)
    body_case("version 0", (e, "unsupported-version"), v=0)
    body_case("version 2 and a missing key", (e, "bad-body"), v=2, time=DELETE)
    body_case("version 2 and a bad event", (e, "unsupported-version"), v=2, event={"type": "teleport"})
    body_case("bad event and wrong seq", (e, "bad-event"), seq=99, event={"type": "teleport"})
    body_case("time far in the past is not checked", ok, time=0)
    ordered = enc(base().body({"type": "release", "artifact": "raw", "access": "none"}, by=2))
    assert ordered[:4] == bytes.fromhex("a7617601")
    swapped = ordered[:1] + ordered[4:9] + ordered[1:4] + ordered[9:]  # "seq": 7 before "v": 1
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
    c = Chain()
    c.entries.clear()
    c.add({"type": "genesis", "name": "x"}, seq=1)
    case("genesis with seq 1", c.bytes(), (0, "bad-sequence"))
    c = Chain()
    c.entries.clear()
    c.add({"type": "genesis", "name": "x"}, prev=b"\0" * 32)
    case("genesis with a prev", c.bytes(), (0, "bad-genesis"))
    c = Chain()
    c.entries.clear()
    c.add({"type": "genesis", "name": "x"}, ledger=b"\0" * 32)
    case("genesis with a ledger id", c.bytes(), (0, "bad-genesis"))
    c = Chain()
    c.entries.clear()
    c.add({"type": "genesis", "name": ""})
    case("genesis with an empty name", c.bytes(), (0, "bad-event"))
    c = Chain()
    c.entries.clear()
    c.add({"type": "genesis", "name": "x", "note": "first"})
    case("genesis with a note", c.bytes(), ok)
    c = Chain()
    c.entries.clear()
    c.add({"type": "genesis", "name": "x", "owner": "me"})
    case("genesis with an unknown field", c.bytes(), (0, "bad-event"))
    c = Chain()
    c.entries.clear()
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
    c = Chain()
    c.entries.clear()
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
        c = Chain()
        c.entries.clear()
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
    rules("demoting oneself with another owner", [(1, grant(3, "owner")), (1, grant(1, "appender")), (1, rel)], ok)
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
    rules("an input produced later, no cycle", [(2, tr(["raw"], ["out"])), (2, tr(["clean"], ["raw"]))], ok)
    rules("diamond, no cycle", [(2, tr(["raw"], ["clean"])), (2, tr(["raw", "clean"], ["out"]))], ok)
    rules("generator must be weights", [(2, aug(["raw"], ["out"], generator="clean"))], (e, "rule-violation"))
    rules("undeclared generator", [(2, aug(["raw"], ["out"], generator="x"))], (e, "rule-violation"))
    rules("generator also an input", [(2, aug(["raw", "model"], ["out"], generator="model"))], ok)
    rules("generator as an output", [(2, aug(["raw"], ["model"], generator="model"))], (e, "rule-violation"))
    rules("cycle through the generator", [(2, aug(["raw"], ["out"], generator="model")), (2, tr(["out"], ["model"]))], (e + 1, "rule-violation"))
    rules("component kind mismatch", [(2, comp("weights", artifacts=["raw"]))], (e, "rule-violation"))
    rules("component kinds fit", [(2, comp("weights", artifacts=["model"])), (2, comp("inference-code", artifacts=["code"])), (2, comp("sft-data", artifacts=["raw"]))], ok)
    rules("component of an undeclared artifact", [(2, comp("sft-data", artifacts=["x"]))], (e, "rule-violation"))
    rules("not applicable, then artifacts", [(2, comp("sft-data", applicable=False)), (2, comp("sft-data", artifacts=["raw"]))], (e + 1, "rule-violation"))
    rules("artifacts, then not applicable", [(2, comp("sft-data", artifacts=["raw"])), (2, comp("sft-data", applicable=False))], (e + 1, "rule-violation"))
    rules("not applicable twice", [(2, comp("sft-data", applicable=False)), (2, comp("sft-data", applicable=False))], ok)
    rules("artifacts accumulate", [(2, comp("sft-data", artifacts=["raw"])), (2, comp("sft-data", artifacts=["raw", "clean"]))], ok)
    rules("both forms in one event", [(2, comp("sft-data", artifacts=["raw"], applicable=False))], (e, "bad-event"))
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
    v = dict(verdict)
    if "error" in v:
        v["error"] = {k: x for k, x in v["error"].items() if k != "detail"}
    return v


def summary(verdict):
    if verdict.get("valid"):
        return f"valid ({verdict['entries']} entries)"
    if "error" in verdict:
        return f"{verdict['error']['reason']} at {verdict['error']['seq']}"
    return f"exit {verdict.get('exit')}: {verdict.get('stderr')}"


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    binary = Path(argv[0])
    build_cases()
    failures = 0
    with tempfile.TemporaryDirectory(prefix="custody-diff-") as tmp:
        for n, (name, data, expect, owner, pinned) in enumerate(CASES, 1):
            path = Path(tmp) / f"case-{n}.ledger"
            path.write_bytes(data)
            rust = comparable(cli_verdict(binary, path, owner))
            python = comparable(V.verify(data, owner))
            if expect == "valid":
                documented = rust.get("valid") is True
                want = "valid"
            else:
                documented = rust.get("error") == {"seq": expect[0], "reason": expect[1]}
                want = f"{expect[1]} at {expect[0]}"
            if pinned is not None:
                want += f", pinned {str(pinned).lower()}"
                if rust.get("pinned") is not pinned:
                    documented = False
            problems = []
            if not documented:
                problems.append(f"custody says {summary(rust)}, FORMAT.md says {want}")
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
