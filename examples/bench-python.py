"""Times the Python package against the custody command on the same work,
in one run: appending a batch of events to a new ledger directory, and
verifying the export of it. Each is run three times, alternating, and the
best kept. Then, for scale, the Python in-toto library (3.x) verifying as
many signed links (Ed25519, each loaded from its JSON, its signature
checked and its fields validated, as in-toto-verify does per link).

    .venv/bin/pip install -r examples/bench-python-requirements.txt
    CUSTODY_BIN=target/release/custody .venv/bin/python examples/bench-python.py [EVENTS]
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import custody

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
cli = os.environ.get("CUSTODY_BIN", "custody")
if os.sep in cli:
    cli = os.path.abspath(cli)  # the work is done in a scratch directory
work = tempfile.mkdtemp()
os.environ["CUSTODY_STATE_DIR"] = os.path.join(work, "state")
os.chdir(work)
subprocess.run([cli, "keygen", "--out", "k.key"], check=True, capture_output=True)
key = custody.Key.load("k.key")
events = [{"type": "artifact", "id": f"a{i}", "kind": "data", "uri": f"s3://lab/{i}"} for i in range(n)]
with open("events.jsonl", "w") as f:
    for e in events:
        f.write(json.dumps(e) + "\n")

best = {"py append": 1e9, "cli append": 1e9, "py verify": 1e9, "cli verify": 1e9}
for r in range(3):
    for who in ("py", "cli"):
        d = f"{who}{r}"
        subprocess.run([cli, "init", d, "--key", "k.key", "--name", "bench"], check=True, capture_output=True)
        t = time.perf_counter()
        if who == "py":
            custody.Ledger.open(d).append(events, key)
        else:
            subprocess.run([cli, "append", d, "--key", "k.key", "events.jsonl"], check=True, capture_output=True)
        best[f"{who} append"] = min(best[f"{who} append"], time.perf_counter() - t)
    subprocess.run([cli, "export", f"cli{r}", "--out", f"x{r}.custody"], check=True, capture_output=True)
    for who in ("py", "cli"):
        t = time.perf_counter()
        if who == "py":
            assert custody.verify(f"x{r}.custody").valid
        else:
            subprocess.run([cli, "verify", f"x{r}.custody"], check=True, capture_output=True)
        best[f"{who} verify"] = min(best[f"{who} verify"], time.perf_counter() - t)

print(f"custody from Python vs the command, {n} events, best of 3")
for what in ("append", "verify"):
    py, c = best[f"py {what}"], best[f"cli {what}"]
    print(f"  {what}: Python {py:.2f} s, command {c:.2f} s: Python at {100 * c / py:.0f}% of the command's speed")

try:
    from in_toto.models.link import Link
    from in_toto.models.metadata import Metablock, Metadata
    from securesystemslib.signer import CryptoSigner
except ImportError:
    print("in-toto: not installed (pip install -r examples/bench-python-requirements.txt); skipped")
    sys.exit(0)

import in_toto

signer = CryptoSigner.generate_ed25519()
pub = signer.public_key.to_dict()
pub["keyid"] = signer.public_key.keyid
links = []
for i in range(n):
    link = Link(name=f"step-{i}", materials={f"s3://lab/{i}": {"sha256": "00" * 32}},
                products={f"a{i}": {"sha256": "11" * 32}}, byproducts={}, command=[],
                environment={})
    mb = Metablock(signed=link)
    mb.create_signature(signer)
    links.append(json.dumps(mb.to_dict()))
best_it = 1e9
for r in range(3):
    t = time.perf_counter()
    for text in links:
        m = Metadata.from_dict(json.loads(text))
        m.verify_signature(pub)
        m.signed.validate()
    best_it = min(best_it, time.perf_counter() - t)
py = best["py verify"]
print(f"  in-toto {in_toto.__version__}: {n} signed links verified in {best_it:.2f} s; "
      f"custody.verify of {n} entries takes {100 * py / best_it:.1f}% of that time "
      f"({best_it / py:.1f}x faster)")
