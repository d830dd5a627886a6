"""The custody Python package against the custody command: round trips
both ways, the recorder's all-or-nothing, typed errors that leave the
ledger as it was, invalid ledgers as results, OpenSSL keys, and threads
that keep running while custody works."""

import os
import shutil
import subprocess
import threading

import pytest

import custody

CLI = os.environ.get("CUSTODY_BIN") or shutil.which("custody")


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    # Each test's own high-water marks, not the user's.
    monkeypatch.setenv("CUSTODY_STATE_DIR", str(tmp_path / "state"))


def cli(*args, cwd, stdin=None):
    assert CLI, "set CUSTODY_BIN to the custody binary"
    env = dict(os.environ)
    return subprocess.run([CLI, *map(str, args)], cwd=cwd, input=stdin, capture_output=True, text=True, env=env)


def snapshot(path):
    out = {}
    for root, _, files in os.walk(path):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[p] = fh.read()
    return out


def test_a_ledger_written_from_python_verifies_with_the_cli(tmp_path):
    key = custody.Key.generate()
    key.save(tmp_path / "owner.key")
    assert (os.stat(tmp_path / "owner.key").st_mode & 0o777) == 0o600
    ledger = custody.Ledger.init(tmp_path / "L", key, "from python")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "part-0.jsonl").write_text('{"text": "hello"}\n')
    os.chdir(tmp_path)
    with custody.record(ledger, key) as step:
        step.dataset("raw", path="data", uri="s3://lab/raw")
        step.license("raw", "CC-BY-4.0")
        step.dataset("clean")
        step.transformation("dedup", inputs=["raw"], outputs=["clean"], tool="dedup 1.0",
                            parameters={"threshold": 0.8})
    assert step.result.appended == 4
    r = cli("verify", "L", "--owner", key.public_hex, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f'"entries":{step.result.entries}' in r.stdout.replace(" ", "")
    entries = list(custody.log(tmp_path / "L"))
    raw = next(e for e in entries if e.get("id") == "raw")
    assert raw["digest"] == custody.digest(tmp_path / "data")
    assert raw["digest"].startswith("sha256-manifest:")
    assert "path" not in raw


def test_a_ledger_written_by_the_cli_verifies_from_python(tmp_path):
    assert cli("keygen", "--out", "k.key", cwd=tmp_path).returncode == 0
    assert cli("init", "L", "--key", "k.key", "--name", "from the cli", cwd=tmp_path).returncode == 0
    r = cli("append", "L", "--key", "k.key", cwd=tmp_path,
            stdin='{"type":"artifact","id":"w","kind":"weights"}\n')
    assert r.returncode == 0, r.stderr
    key = custody.Key.load(tmp_path / "k.key")
    v = custody.verify(tmp_path / "L", owner=key.public_hex)
    assert v.valid and v.pinned and v.entries == 2 and v.name == "from the cli"
    assert [e["type"] for e in custody.log(tmp_path / "L")] == ["genesis", "artifact"]


def test_openness_is_the_clis_document(tmp_path):
    assert cli("demo", tmp_path / "demo", cwd=tmp_path).returncode == 0
    export = tmp_path / "demo" / "tinylm-1.0.custody"
    r = cli("openness", export, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    import json
    assert custody.openness(export) == json.loads(r.stdout)
    assert custody.openness(export)["components"]["weights"]["level"] == "D3"


def test_export_import_and_checkpoint_agree_with_the_cli(tmp_path):
    key = custody.Key.generate()
    key.save(tmp_path / "k.key")
    ledger = custody.Ledger.init(tmp_path / "L", key, "x")
    ledger.append([{"type": "artifact", "id": f"a{i}", "kind": "data"} for i in range(5)], key)
    assert custody.export(tmp_path / "L", tmp_path / "py.custody") == 6
    with pytest.raises(custody.CustodyError):
        custody.export(tmp_path / "L", tmp_path / "py.custody")
    assert cli("export", "L", "--out", "cli.custody", cwd=tmp_path).returncode == 0
    assert (tmp_path / "py.custody").read_bytes() == (tmp_path / "cli.custody").read_bytes()
    again = custody.import_(tmp_path / "py.custody", tmp_path / "M")
    assert again.verify().entries == 6
    cp = custody.checkpoint(tmp_path / "L", key)
    origin = cp.splitlines()[0]
    vkey = cli("vkey", "--key", "k.key", "--name", origin, cwd=tmp_path).stdout.strip()
    (tmp_path / "cp").write_text(cp)
    r = cli("verify", "cli.custody", "--checkpoint", "cp", "--vkey", vkey, cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_the_recorder_writes_nothing_when_the_step_raises(tmp_path):
    key = custody.Key.generate()
    ledger = custody.Ledger.init(tmp_path / "L", key, "x")
    before = snapshot(tmp_path / "L")
    with pytest.raises(RuntimeError):
        with custody.record(ledger, key) as step:
            step.dataset("half-done")
            raise RuntimeError("the step failed")
    assert snapshot(tmp_path / "L") == before
    assert custody.verify(tmp_path / "L").entries == 1


def test_bad_events_raise_input_error_with_line_and_field_and_change_nothing(tmp_path):
    key = custody.Key.generate()
    ledger = custody.Ledger.init(tmp_path / "L", key, "x")
    before = snapshot(tmp_path / "L")
    with pytest.raises(custody.InputError) as e:
        ledger.append([{"type": "artifact", "id": "ok", "kind": "data"},
                       {"type": "artifact", "id": "bad", "kind": "nope"}], key)
    assert (e.value.line, e.value.field) == (2, "kind")
    assert isinstance(e.value, custody.CustodyError)
    with pytest.raises(custody.InputError) as e:
        ledger.append([{"type": "artifact", "id": "x", "kind": "data", "size": float("nan")}], key)
    assert e.value.line == 1
    assert snapshot(tmp_path / "L") == before


def test_an_invalid_ledger_is_a_result_with_its_seq_and_reason(tmp_path):
    key = custody.Key.generate()
    key.save(tmp_path / "k.key")
    ledger = custody.Ledger.init(tmp_path / "L", key, "x")
    ledger.append([{"type": "artifact", "id": f"a{i}", "kind": "data"} for i in range(3)], key)
    assert cli("export", "L", "--out", "x.custody", cwd=tmp_path).returncode == 0
    data = bytearray((tmp_path / "x.custody").read_bytes())
    data[-10] ^= 1
    (tmp_path / "x.custody").write_bytes(bytes(data))
    v = custody.verify(tmp_path / "x.custody")
    assert not v.valid and not v
    assert v.error_seq == 3 and v.reason == "bad-signature", v
    # The log gives the entries that verified, then raises at the bad one.
    seen = []
    with pytest.raises(custody.InvalidLedgerError) as e:
        for entry in custody.log(tmp_path / "x.custody"):
            seen.append(entry["seq"])
    assert (e.value.seq, e.value.reason) == (3, "bad-signature")
    assert seen == [0, 1, 2]


def test_keys_made_by_openssl_load(tmp_path):
    if not shutil.which("openssl"):
        pytest.fail("openssl is needed (apt-get install openssl)")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(tmp_path / "o.pem")], check=True)
    os.chmod(tmp_path / "o.pem", 0o600)
    key = custody.Key.load(tmp_path / "o.pem")
    r = cli("pubkey", tmp_path / "o.pem", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert key.public_hex == r.stdout.strip()


def test_threads_run_while_custody_works(tmp_path):
    key = custody.Key.generate()
    ledger = custody.Ledger.init(tmp_path / "L", key, "x")
    ledger.append([{"type": "artifact", "id": f"b{i}", "kind": "data"} for i in range(2_000)], key)
    # The other thread verifies an export (a directory admits one opener
    # at a time, and an appender waits only so long for a reader).
    assert cli("export", "L", "--out", "x.custody", cwd=tmp_path).returncode == 0
    events = [{"type": "artifact", "id": f"a{i}", "kind": "data"} for i in range(40_000)]
    counted = [0]
    done = threading.Event()

    def count():
        while not done.is_set():
            counted[0] += 1

    verified = []

    def verify_meanwhile():
        while not done.is_set():
            verified.append(custody.verify(tmp_path / "x.custody").valid)

    t1, t2 = threading.Thread(target=count), threading.Thread(target=verify_meanwhile)
    t1.start()
    t2.start()
    try:
        r = ledger.append(events, key)
    finally:
        done.set()
        t1.join()
        t2.join()
    assert r.appended == 40_000
    # The GIL was released while the batch was signed: the counting
    # thread ran meanwhile (held, it would have counted next to nothing).
    assert counted[0] > 100_000, counted[0]
    assert verified and all(verified)


def test_proofs_from_python_check_out_with_the_cli_and_fail_when_they_should(tmp_path):
    key = custody.Key.generate()
    key.save(tmp_path / "k.key")
    ledger = custody.Ledger.init(tmp_path / "L", key, "proved")
    ledger.append([{"type": "artifact", "id": f"a{i}", "kind": "data"} for i in range(6)], key)
    cp = custody.checkpoint(tmp_path / "L", key)
    origin = cp.splitlines()[0]
    vkey = key.verifier_key(origin)
    assert vkey == cli("vkey", "--key", "k.key", "--name", origin, cwd=tmp_path).stdout.strip()

    # Inclusion: Python's proof and entry verify with the command, and the
    # command's with Python.
    proof = custody.prove_inclusion(tmp_path / "L", 3, checkpoint=cp)
    entry = custody.entry(tmp_path / "L", 3)
    (tmp_path / "cp").write_text(cp)
    (tmp_path / "p3").write_text(proof)
    (tmp_path / "e3").write_bytes(entry)
    r = cli("verify-proof", "p3", "--entry", "e3", "--vkey", vkey, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert cli("prove", "inclusion", "L", "--seq", "3", "--checkpoint", "cp", "--out", "c3",
               cwd=tmp_path).returncode == 0
    assert (tmp_path / "c3").read_text() == proof
    ok = custody.verify_proof(tmp_path / "c3", entry, vkey)
    assert ok and ok.seq == 3 and ok.event_type == "artifact" and ok.size == 7
    assert ok.origin == origin and ok.signer == key.public_hex

    # A proof does not hold for another entry, a changed entry, or a key
    # of the same name that is not the signer's.
    assert not custody.verify_proof(proof, custody.entry(tmp_path / "L", 4), vkey)
    changed = bytearray(entry)
    changed[-1] ^= 1
    bad = custody.verify_proof(proof, bytes(changed), vkey)
    assert not bad and "does not verify" in bad.error
    other = custody.Key.generate().verifier_key(origin)
    assert not custody.verify_proof(proof, entry, other)

    # Consistency: the ledger grows; the proof from the old checkpoint is
    # the command's, and a copy cut back to before the checkpoint fails.
    assert custody.export(tmp_path / "L", tmp_path / "short.custody") == 7
    ledger.append([{"type": "artifact", "id": "late", "kind": "code"}], key)
    cons = custody.prove_consistency(tmp_path / "L", cp)
    r = cli("prove", "consistency", "L", "--from", "cp", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert cons == r.stdout and cons.startswith("old 7\n")
    assert custody.verify(tmp_path / "L", checkpoint=cp, vkey=vkey)
    cp8 = custody.checkpoint(tmp_path / "L", key)
    cut = custody.verify(tmp_path / "short.custody", checkpoint=cp8, vkey=vkey)
    assert not cut and cut.reason == "truncated" and cut.error_seq == 7
    with pytest.raises(custody.CustodyError):
        custody.verify(tmp_path / "L", checkpoint=cp)  # without its key


def serve(location, cwd):
    """`custody serve LOCATION` on a free loopback port: (process, base URL)."""
    assert CLI, "set CUSTODY_BIN to the custody binary"
    p = subprocess.Popen([CLI, "serve", str(location), "--listen", "127.0.0.1:0"], cwd=cwd,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         env=dict(os.environ, CUSTODY_STATE_DIR=str(cwd / "server-state")))
    first = p.stdout.readline()
    assert first.startswith("listening on http://127.0.0.1:"), first
    return p, p.stdout.readline().strip()


def roundtrip_through_a_server(tmp_path, location):
    """A ledger at `location` (a directory or a postgres:// URL) written
    from Python, served, appended to and read through its URL from
    Python, and checked by the command at both places."""
    owner = custody.Key.generate()
    appender = custody.Key.generate()
    ledger = custody.Ledger.init(location, owner, "served")
    ledger.append([{"type": "grant", "key": appender.public_hex, "role": "appender"}], owner)
    cp = custody.checkpoint(location, owner)
    proc, base = serve(location, tmp_path)
    try:
        remote = custody.Ledger.open(base)
        r = remote.append([{"type": "artifact", "id": "corpus", "kind": "data"},
                           {"type": "license", "artifact": "corpus", "license": "CC-BY-4.0"}],
                          appender, owner=owner.public_hex)
        assert (r.appended, r.entries) == (2, 4)
        v = custody.verify(base, owner=owner.public_hex)
        assert v and v.entries == 4 and v.head == r.head and v.name == "served"
        assert [e["type"] for e in custody.log(base)][-2:] == ["artifact", "license"]
        assert custody.openness(base)["entries"] == 4
        # Bad input is refused before anything is posted; the ledger is as it was.
        with pytest.raises(custody.InputError) as e:
            remote.append([{"type": "artifact", "id": "x", "kind": "data"},
                           {"type": "artifact", "id": "y", "kind": "sand"}], appender)
        assert e.value.line == 2 and e.value.field == "kind"
        assert custody.verify(base).entries == 4
        # A stranger's batch is refused by the rules.
        with pytest.raises(custody.CustodyError):
            remote.append([{"type": "artifact", "id": "z", "kind": "data"}], custody.Key.generate())
        assert custody.verify(base).entries == 4
        assert cli("verify", base, "--owner", owner.public_hex, cwd=tmp_path).returncode == 0
        # Proofs from the served ledger, against the checkpoint signed
        # before it was served; and it still holds that checkpoint's tree.
        vkey = owner.verifier_key(cp.splitlines()[0])
        proof = custody.prove_inclusion(base, 1, checkpoint=cp)
        assert custody.verify_proof(proof, custody.entry(base, 1), vkey).seq == 1
        assert custody.verify(base, checkpoint=cp, vkey=vkey)
        with pytest.raises(custody.CustodyError):
            custody.prove_inclusion(base, 1, key=owner)
        with pytest.raises(custody.CustodyError):
            custody.Ledger.init(base + "-new", owner, "no")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    r = cli("verify", location, "--owner", owner.public_hex, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert '"entries":4' in r.stdout.replace(" ", "")


def test_a_served_ledger_is_used_from_python_through_its_url(tmp_path):
    roundtrip_through_a_server(tmp_path, tmp_path / "L")


PG = os.environ.get("CUSTODY_TEST_PG_URL")


@pytest.mark.skipif(not PG, reason="set CUSTODY_TEST_PG_URL (postgres://...?ledger=) to a test database; "
                                   "cargo test --test python_package starts one")
def test_a_postgres_ledger_is_used_from_python_and_served(tmp_path):
    # With a password in the URL (the test cluster trusts loopback and
    # ignores it): it is never shown.
    location = PG.replace("custody@", "custody:hunter2@") + "py-" + tmp_path.name.replace("-", "")[-12:]
    roundtrip_through_a_server(tmp_path, location)
    ledger = custody.Ledger.open(location)
    shown = [repr(ledger), ledger.location, custody.openness(location)["source"]]
    assert all("hunter2" not in s and "custody:***@" in s for s in shown), shown
    # The CLI reads what Python wrote into PostgreSQL, and the reverse.
    r = cli("log", location, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == len(list(custody.log(location))) == 4


def test_a_partial_export_says_it_is_partial(tmp_path):
    assert cli("demo", "demo", cwd=tmp_path).returncode == 0
    r = cli("export", "demo/ledger", "--disclose", "component:weights", "--key",
            "demo/keys/release-owner.key", "--out", "partial.custody", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    import json
    want = json.loads(cli("verify", "partial.custody", "--json", cwd=tmp_path).stdout)
    v = custody.verify(tmp_path / "partial.custody")
    assert v.valid and v.withheld == want["withheld"] > 0
    assert v.partial == want["partial"] and v.partial["selectors"] == ["component:weights"]
    assert v.ledger == want["ledger"] and "withheld" in repr(v)
    whole = custody.verify(tmp_path / "demo" / "tinylm-1.0.custody")
    assert whole.valid and whole.withheld == 0 and whole.partial is None


def test_text_is_text_and_only_a_path_is_read(tmp_path):
    key = custody.Key.generate()
    custody.Ledger.init(tmp_path / "L", key, "t")
    cp = custody.checkpoint(tmp_path / "L", key)
    vkey = key.verifier_key(cp.splitlines()[0])
    (tmp_path / "cp").write_text(cp)
    (tmp_path / "vkey").write_text(vkey + "\n")
    (tmp_path / "secret").write_text("DB_PASSWORD=hunter2\n")
    os.chdir(tmp_path)
    import pathlib
    assert custody.verify("L", checkpoint=pathlib.Path("cp"), vkey=pathlib.Path("vkey"))
    # A str is the text itself, never a file name: no file is read, and
    # what a file holds is not echoed.
    for args in ({"checkpoint": "cp", "vkey": vkey}, {"checkpoint": "secret", "vkey": vkey},
                 {"checkpoint": cp, "vkey": "vkey"}):
        with pytest.raises(custody.CustodyError) as e:
            custody.verify("L", **args)
        assert "hunter2" not in str(e.value)
    with pytest.raises(custody.CustodyError):
        custody.prove_consistency("L", "secret")
    with pytest.raises(custody.CustodyError):
        custody.verify("L", origin="another")  # origin without a checkpoint
    with pytest.raises(TypeError):
        custody.verify("L", checkpoint=b"bytes", vkey=vkey)


def test_a_lone_surrogate_is_bad_input(tmp_path):
    key = custody.Key.generate()
    ledger = custody.Ledger.init(tmp_path / "L", key, "t")
    with pytest.raises(custody.InputError) as e:
        ledger.append([{"type": "artifact", "id": "ok", "kind": "data"},
                       {"type": "artifact", "id": "\ud800", "kind": "data"}], key)
    assert e.value.line == 2
    assert custody.verify(tmp_path / "L").entries == 1


def front(upstream, lose_post_answers):
    """A proxy before a real server that stores each batch it is sent and
    then, `lose_post_answers` times, answers 502 as if the answer were lost."""
    import http.server
    import urllib.error
    import urllib.request

    state = {"lose": lose_post_answers}

    class Front(http.server.BaseHTTPRequestHandler):
        def relay(self, data=None):
            req = urllib.request.Request(upstream + self.path, data=data, method=self.command)
            if data is not None:
                req.add_header("content-type", self.headers.get("content-type", ""))
            try:
                with urllib.request.urlopen(req) as r:
                    return r.status, r.read()
            except urllib.error.HTTPError as e:
                return e.code, e.read()

        def answer(self, code, body):
            self.send_response(code)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.answer(*self.relay())

        def do_POST(self):
            code, body = self.relay(self.rfile.read(int(self.headers["content-length"])))
            if code == 200 and state["lose"] > 0:
                state["lose"] -= 1
                code, body = 502, b"bad gateway"
            self.answer(code, body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Front)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_an_answer_lost_after_the_batch_was_stored_is_found_again(tmp_path):
    owner = custody.Key.generate()
    custody.Ledger.init(tmp_path / "L", owner, "lost")
    proc, base = serve(tmp_path / "L", tmp_path)
    f = front(base.split("/v1/")[0], 2)
    try:
        url = f"http://127.0.0.1:{f.server_address[1]}/v1/lost"
        events = [{"type": "artifact", "id": f"a{i}", "kind": "data"} for i in range(3)]
        with pytest.raises(custody.CustodyError) as e:
            custody.Ledger.open(url).append(events, owner)
        assert "may or may not have been stored" in str(e.value)
        assert custody.verify(base).entries == 4
        with pytest.warns(custody.CustodyWarning, match="already in the ledger"):
            r = custody.Ledger.open(url).append(events, owner)
        assert (r.appended, r.entries, r.stored_before) == (0, 4, (1, 3))
        assert custody.verify(base).entries == 4
        # Warnings turned into errors do not turn a stored batch into a
        # failure (which would invite appending it again).
        more = [{"type": "artifact", "id": "b", "kind": "data"}]
        with pytest.raises(custody.CustodyError):
            custody.Ledger.open(url).append(more, owner)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            r = custody.Ledger.open(url).append(more, owner)
        assert r.stored_before == (4, 4) and "already in the ledger" in r.warnings[-1]
        assert custody.verify(base).entries == 5
    finally:
        f.shutdown()
        proc.terminate()
        proc.wait(timeout=30)


def test_the_log_streams_a_large_ledger(tmp_path):
    key = custody.Key.generate()
    ledger = custody.Ledger.init(tmp_path / "L", key, "big")
    ledger.append([{"type": "artifact", "id": f"a{i}", "kind": "data"} for i in range(20000)], key)
    it = custody.log(tmp_path / "L")
    first = next(it)
    assert first["type"] == "genesis" and first["seq"] == 0
    assert sum(1 for _ in it) == 20000
    # Dropped half-read: the verifying thread stops, nothing is left open.
    half = custody.log(tmp_path / "L")
    next(half)
    del half
    assert custody.verify(tmp_path / "L").entries == 20001


def test_an_unfinished_log_does_not_hold_the_ledger(tmp_path):
    key = custody.Key.generate()
    ledger = custody.Ledger.init(tmp_path / "L", key, "held")
    ledger.append([{"type": "artifact", "id": f"a{i}", "kind": "data"} for i in range(5000)], key)
    it = custody.log(tmp_path / "L")
    assert next(it)["seq"] == 0
    import time
    deadline = time.monotonic() + 30
    while True:  # the verifying thread finishes on its own, then lets go
        try:
            r = ledger.append([{"type": "artifact", "id": "late", "kind": "data"}], key)
            break
        except custody.LedgerInUseError:
            assert time.monotonic() < deadline, "the log kept the ledger locked"
    assert r.entries == 5002
    assert sum(1 for _ in it) == 5000  # the rest of what was verified


def test_owner_is_hex_or_a_path_never_a_file_name_in_a_str(tmp_path):
    key = custody.Key.generate()
    key.save(tmp_path / "k.key")
    custody.Ledger.init(tmp_path / "L", key, "o")
    import pathlib
    assert custody.verify(tmp_path / "L", owner=key.public_hex.upper()).pinned
    assert custody.verify(tmp_path / "L", owner=pathlib.Path(tmp_path / "k.key.pub")).pinned
    with pytest.raises(custody.CustodyError) as e:
        custody.verify(tmp_path / "L", owner=str(tmp_path / "k.key.pub"))
    assert "hex" in str(e.value)
    (tmp_path / "notakey").write_text(str(tmp_path / "k.key.pub") + "\n")
    with pytest.raises(custody.CustodyError):  # a file's text is a key, not another file's name
        custody.verify(tmp_path / "L", owner=pathlib.Path(tmp_path / "notakey"))


def test_no_error_shows_a_urls_password(tmp_path):
    url = "postgres://custody:S3cretPW@127.0.0.1:1/x?ledger=y"
    for call in (lambda: custody.digest(url), lambda: custody.Key.load(url),
                 lambda: custody.export(tmp_path / "nothing", url),
                 lambda: custody.Ledger.open("HTTP://u:S3cretPW@127.0.0.1:1/x"),
                 lambda: custody.Ledger.open("http://u:S3cretPW@127.0.0.1:1")):
        with pytest.raises(custody.CustodyError) as e:
            call()
        assert "S3cretPW" not in str(e.value) and "S3cretPW" not in str(getattr(e.value, "path", ""))


def test_ctrl_c_reaches_a_log_waiting_on_a_silent_server(tmp_path):
    import signal
    import socket
    import sys
    import time
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts, never answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/quiet"
    code = f"import custody\nprint('waiting', flush=True)\nnext(custody.log({url!r}))\n"
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         env=dict(os.environ, CUSTODY_STATE_DIR=str(tmp_path / "state")))
    try:
        assert p.stdout.readline().strip() == "waiting"
        time.sleep(1)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=10)
        assert "KeyboardInterrupt" in err, err
    finally:
        p.kill()
        silent.close()


def test_every_public_name_is_typed_and_documented():
    import pathlib
    stub = (pathlib.Path(custody.__file__).parent / "_custody.pyi").read_text()
    assert (pathlib.Path(custody.__file__).parent / "py.typed").exists()
    for name in dir(custody._custody):
        if name.startswith("_"):
            continue
        obj = getattr(custody._custody, name)
        assert f"{name}" in stub, f"{name} has no type stub"
        assert (obj.__doc__ or "").strip(), f"{name} has no docstring"
