#!/usr/bin/env bash
# Benchmarks `custody serve` on loopback against local appends into the
# same kind of store (a ledger directory), in one run:
#   - local `custody append`, batches of 1,000 events;
#   - remote `custody append http://...`, 1 client, batches of 1,000;
#   - remote, 8 clients at once, batches of 1,000;
#   - OpenLineage ingestion, COMPLETE events with 2 inputs and 1 output,
#     posted one at a time by one client over a kept-alive connection,
#     then by 8 clients at once (each one at a time);
#   - reads: the whole export of the ledger, entries served per second.
# Usage: examples/bench-serve.sh [BATCHES]   (default 20 batches per phase)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
custody="$PWD/target/release/custody"
batches=${1:-20}
dir=$(mktemp -d)
server=
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"
export CUSTODY_STATE_DIR="$dir/state"
now() { date +%s.%N; }
rate() { python3 -c "print(f'{$1 / ($3 - $2):.0f}')"; }
events() { # $1 = tag: 1,000 artifact events
    python3 -c "
import sys
t = sys.argv[1]
for i in range(1000):
    print('{\"type\":\"artifact\",\"id\":\"%s-%d\",\"kind\":\"data\",\"uri\":\"s3://lab/%s/%d.jsonl\"}' % (t, i, t, i))
" "$1"
}
"$custody" keygen --out owner.key >/dev/null
for p in $(seq 0 8); do "$custody" keygen --out "k$p.key" >/dev/null; done
"$custody" keygen --out ingest.key >/dev/null
for L in local remote; do
    "$custody" init "$L" --key owner.key --name "$L" >/dev/null
    for p in $(seq 0 8) ingest; do
        f="k$p.key.pub"; [ "$p" = ingest ] && f=ingest.key.pub
        echo "{\"type\":\"grant\",\"key\":\"$(cat "$f")\",\"role\":\"appender\"}"
    done | "$custody" append "$L" --key owner.key >/dev/null
done
for b in $(seq 1 "$batches"); do events "l$b" > "l$b.jsonl"; events "r$b" > "r$b.jsonl"; done

t0=$(now)
for b in $(seq 1 "$batches"); do "$custody" append local --key k0.key "l$b.jsonl" >/dev/null; done
t1=$(now)
local_rate=$(rate "$batches*1000" "$t0" "$t1")

echo 0123456789abcdef0123456789abcdef > token
"$custody" serve remote --listen 127.0.0.1:0 --ingest-key ingest.key --token-file token > serve.out 2> serve.err &
server=$!
until [ "$(wc -l < serve.out)" -ge 2 ]; do sleep 0.05; done
url=$(sed -n 2p serve.out | tr -d ' ')
host=$(sed -n 1p serve.out | sed 's/listening on //')

t0=$(now)
for b in $(seq 1 "$batches"); do "$custody" append "$url" --key k0.key "r$b.jsonl" >/dev/null; done
t1=$(now)
remote_rate=$(rate "$batches*1000" "$t0" "$t1")

per=$(( (batches + 7) / 8 ))
for p in $(seq 1 8); do for b in $(seq 1 "$per"); do events "c$p-$b" > "c$p-$b.jsonl"; done; done
t0=$(now)
for p in $(seq 1 8); do
    ( for b in $(seq 1 "$per"); do "$custody" append "$url" --key "k$p.key" "c$p-$b.jsonl" >/dev/null; done ) &
done
wait $(jobs -p | grep -v "^$server\$") 2>/dev/null || true
while [ "$(jobs -p | grep -vc "^$server\$")" -gt 0 ]; do sleep 0.05; done
t1=$(now)
remote8_rate=$(rate "8*$per*1000" "$t0" "$t1")

ingest_bench() { # $1 = clients, $2 = events per client; prints events/s
python3 - "$host" "$1" "$2" <<'PY'
import http.client, json, sys, threading, time, uuid
host = sys.argv[1].replace("http://", "")
clients, n = int(sys.argv[2]), int(sys.argv[3])
failed = []
def post(c, i):
    ev = {"eventType": "COMPLETE", "eventTime": "2026-11-29T10:00:00Z",
          "run": {"runId": str(uuid.uuid4())}, "job": {"namespace": "bench", "name": f"job-{i}"},
          "producer": "bench", "inputs": [{"namespace": "s3://in", "name": f"a-{i}"}, {"namespace": "s3://in", "name": f"b-{i}"}],
          "outputs": [{"namespace": "s3://out", "name": f"o-{i}"}]}
    c.request("POST", "/api/v1/lineage", json.dumps(ev), {"Authorization": "Bearer 0123456789abcdef0123456789abcdef", "Content-Type": "application/json"})
    r = c.getresponse(); body = r.read()
    if r.status != 200 or json.loads(body).get("recorded", 0) < 1:
        failed.append(body)
def client(k):
    c = http.client.HTTPConnection(host)
    for i in range(n):
        post(c, f"{uuid.uuid4()}")
t = time.time()
threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
for th in threads: th.start()
for th in threads: th.join()
assert not failed, failed[:3]
print(f"{clients * n / (time.time() - t):.0f}")
PY
}
ingest=$(ingest_bench 1 500)
ingest8=$(ingest_bench 8 250)

entries=$("$custody" verify "$url" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])')
t0=$(now)
curl -s -o export.bin "$url/export"
t1=$(now)
read_rate=$(rate "$entries" "$t0" "$t1")

echo "custody serve on loopback, $(nproc) core(s), batches of 1,000 events"
echo "local append:             $local_rate entries/s ($batches batches)"
echo "remote append, 1 client:  $remote_rate entries/s ($(python3 -c "print(f'{100*$remote_rate/$local_rate:.0f}')")% of local)"
echo "remote append, 8 clients: $remote8_rate entries/s ($((8*per)) batches)"
echo "OpenLineage ingestion:    $ingest events/s, 1 client (COMPLETE, 2 inputs, 1 output; 500 events)"
echo "OpenLineage ingestion:    $ingest8 events/s, 8 clients at once (250 events each)"
echo "reads (whole export):     $read_rate entries/s ($entries entries)"
