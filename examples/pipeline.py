"""A pipeline's steps recording themselves in a custody ledger.

    python examples/pipeline.py WORKDIR

Makes a key and a ledger in WORKDIR (a new directory), then runs three
small steps (fetch, deduplicate, tokenize), each recording what it read and
wrote as one signed batch, and verifies the result. The digests are
computed from the files the steps wrote.
"""

import json
import os
import sys

import custody

work = sys.argv[1]
os.makedirs(work)
os.chdir(work)
os.environ.setdefault("CUSTODY_STATE_DIR", os.path.join(work, "state"))

key = custody.Key.generate()
key.save("pipeline.key")
ledger = custody.Ledger.init("pipeline.ledger", key, "example pipeline")

# Step 1: fetch.
os.makedirs("raw")
with open("raw/part-0.jsonl", "w") as f:
    for text in ["a cat", "a cat", "a dog"]:
        f.write(json.dumps({"text": text}) + "\n")
with custody.record(ledger, key) as step:
    step.dataset("raw", path="raw", uri="https://example.org/raw")
    step.license("raw", "CC-BY-4.0")
    step.custody("raw", from_="example.org", to="data team")

# Step 2: deduplicate.
seen, kept = set(), []
for line in open("raw/part-0.jsonl"):
    if line not in seen:
        seen.add(line)
        kept.append(line)
os.makedirs("dedup")
open("dedup/part-0.jsonl", "w").writelines(kept)
with custody.record(ledger, key) as step:
    step.dataset("dedup", path="dedup")
    step.transformation("dedup", inputs=["raw"], outputs=["dedup"], tool="examples/pipeline.py",
                        parameters={"exact": True})

# Step 3: tokenize; a step that fails records nothing.
try:
    with custody.record(ledger, key) as step:
        step.dataset("tokens")
        raise RuntimeError("tokenizer crashed")
except RuntimeError:
    pass

result = custody.verify("pipeline.ledger", owner=key.public_hex)
print(f"{result.entries} entries, valid: {result.valid}, head {result.head}")
assert result.valid and result.entries == 6, result
