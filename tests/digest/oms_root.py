"""Prints, as JSON, what OpenSSF model-signing's hashing API makes of a
directory: each file's digest, and the root digest its in-toto subject
carries (SHA-256 over the raw file digests, in manifest order)."""

import hashlib
import json
import sys

import model_signing.hashing

manifest = model_signing.hashing.Config().hash(sys.argv[1])
root = hashlib.sha256()
files = []
for d in manifest.resource_descriptors():
    root.update(d.digest.digest_value)
    files.append({"path": d.identifier, "sha256": d.digest.digest_hex})
print(json.dumps({"root": root.hexdigest(), "files": files}))
