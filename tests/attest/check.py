"""Checks a bundle written by `custody attest` (JSON Lines of DSSE
envelopes) with securesystemslib (the envelopes' Ed25519 signatures and
key ids) and the in-toto attestation library (each Statement v1, and each
SLSA Provenance v1 predicate against its protobuf schema). Prints what it
found as JSON; exits non-zero on the first failure."""

import base64
import json
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
from in_toto_attestation.v1.statement import Statement
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
import pathlib

SCHEMAS = pathlib.Path(__file__).resolve().parents[2] / "schemas" / "output"
REG = Registry().with_resources(
    (d["$id"], Resource.from_contents(d))
    for d in (json.loads(p.read_text()) for p in SCHEMAS.glob("*.schema.json"))
)
PREDICATE = Draft202012Validator(
    json.loads((SCHEMAS / "attest-predicate.schema.json").read_text()), registry=REG
)

bundle, public = sys.argv[1], sys.argv[2]
key = SSlibKey.from_crypto(Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)))
found = []
for line in open(bundle, encoding="utf-8"):
    env = Envelope.from_dict(json.loads(line))
    assert env.payload_type == "application/vnd.in-toto+json", env.payload_type
    assert [s.keyid for s in env.signatures.values()] == [key.keyid], (env.signatures, key.keyid)
    env.verify([key], 1)
    pb = json_format.Parse(env.payload, statement_pb2.Statement())
    Statement.copy_from_pb(pb).validate()
    st = json.loads(env.payload)
    if st["predicateType"] == "urn:custody:predicate:openness:v1":
        errors = [f"{'/'.join(map(str, e.path))}: {e.message[:200]}" for e in PREDICATE.iter_errors(st["predicate"])]
        assert not errors, errors
    if st["predicateType"] == "https://slsa.dev/provenance/v1":
        prov = json_format.ParseDict(st["predicate"], provenance_pb2.Provenance())
        assert prov.build_definition.build_type, "buildType"
        assert prov.run_details.builder.id, "builder.id"
        for dep in prov.build_definition.resolved_dependencies:
            ResourceDescriptor.copy_from_pb(dep).validate()
    found.append({
        "predicateType": st["predicateType"],
        "subject": [s["name"] for s in st["subject"]],
        "predicate": st["predicate"],
    })
print(json.dumps({"keyid": key.keyid, "statements": found}))
