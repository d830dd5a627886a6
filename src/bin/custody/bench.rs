//! `custody bench`: append and verify throughput on ledgers of realistic
//! entries, beside this machine's bare bounds measured in the same run:
//! Ed25519 batch verification of as many signatures on all cores, strict
//! verification on all cores, and signing plus storing in sled.

use crate::Failure;
use custody::{Error, SigningKey};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Events per `append` call: pipelines append in batches, not one huge one.
const APPEND_BATCH: u64 = 100_000;

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// The `n`th event of a realistic pipeline record: datasets declared,
/// handed over, licensed, deduplicated, released and assigned to
/// components, code and synthetic data alongside.
pub(crate) fn event(n: u64) -> String {
    let i = n / 12;
    let d = format!("{:064x}", u128::from(n) * 0x9e37_79b9_7f4a_7c15);
    match n % 12 {
        0 => format!(
            r#"{{"type":"artifact","id":"ds-{i}","kind":"data","digest":"sha256:{d}","uri":"s3://lab-data/raw/shard-{i:06}.jsonl.zst","size":{},"description":"web text shard {i}"}}"#,
            1_000_000 + n
        ),
        1 => format!(
            r#"{{"type":"custody","artifact":"ds-{i}","from":"https://data.example.org/crawl","to":"data team","note":"ingested by pipeline run {i}"}}"#
        ),
        2 => format!(r#"{{"type":"license","artifact":"ds-{i}","license":"CC-BY-4.0"}}"#),
        3 => format!(
            r#"{{"type":"artifact","id":"ds-{i}-dedup","kind":"data","digest":"sha256:{d}"}}"#
        ),
        4 => format!(
            r#"{{"type":"transformation","operation":"dedup","inputs":["ds-{i}"],"outputs":["ds-{i}-dedup"],"tool":"text-dedup 0.4","parameters":{{"threshold":0.8,"num_perm":128}}}}"#
        ),
        5 => format!(
            r#"{{"type":"artifact","id":"ds-{i}-clean","kind":"data","digest":"sha256:{d}"}}"#
        ),
        6 => format!(
            r#"{{"type":"transformation","operation":"filter","inputs":["ds-{i}-dedup"],"outputs":["ds-{i}-clean"],"tool":"quality-filter 1.2","parameters":{{"lang":"en","min_words":50}}}}"#
        ),
        7 => format!(r#"{{"type":"release","artifact":"ds-{i}-clean","access":"public"}}"#),
        8 => format!(r#"{{"type":"artifact","id":"syn-{i}","kind":"data","digest":"sha256:{d}"}}"#),
        9 => format!(
            r#"{{"type":"augmentation","method":"synthetic","inputs":["ds-{i}-clean"],"outputs":["syn-{i}"],"generator":"teacher","parameters":{{"samples":1000,"temperature":0.7}}}}"#
        ),
        10 => format!(
            r#"{{"type":"license","artifact":"syn-{i}","license":"CC-BY-4.0 AND Apache-2.0"}}"#
        ),
        _ => format!(
            r#"{{"type":"component","component":"pretraining-data","artifacts":["ds-{i}-clean","syn-{i}"]}}"#
        ),
    }
}

/// Runs `custody ARGS FILE` in its own process: wall time and peak RSS
/// (VmHWM from /proc, sampled until it exits). Fails unless it exits 0.
fn measured(args: &[&str], file: &Path) -> Result<(Duration, f64), Failure> {
    let exe = std::env::current_exe().map_err(io(Path::new("custody")))?;
    let t = Instant::now();
    let mut child = Command::new(exe)
        .args(args)
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(io(file))?;
    let status_path = PathBuf::from(format!("/proc/{}/status", child.id()));
    let mut peak_kb = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_path) {
            if let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak_kb = peak_kb.max(kb);
            }
        }
        if let Some(s) = child.try_wait().map_err(io(file))? {
            break s;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = t.elapsed();
    if !status.success() {
        return Err(Error::Usage(format!(
            "`custody {} {}` failed on the benchmark ledger",
            args.join(" "),
            file.display()
        ))
        .into());
    }
    Ok((elapsed, peak_kb as f64 / 1024.0))
}

/// Signs `events` (JSON) as a whole export by one owner key, straight with
/// the library: benchmark inputs shaped as an attacker would shape them.
fn signed_file(
    path: &Path,
    name: &str,
    events: impl Iterator<Item = String>,
) -> Result<u64, Failure> {
    let key = seed_key(1);
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).map_err(io(path))?);
    let genesis = serde_json::json!({"type": "genesis", "name": name});
    let mut header = custody::EntryHeader {
        seq: 0,
        prev: None,
        ledger: None,
        time: 1_767_225_600,
        roles: 1,
    };
    let first = custody::sign_entry(&key, &header, &genesis)?;
    let id = custody::entry_hash(&first);
    w.write_all(&first).map_err(io(path))?;
    header.prev = Some(id);
    header.ledger = Some(id);
    let mut n = 1;
    for e in events {
        header.seq = n;
        let v: serde_json::Value = serde_json::from_str(&e)
            .map_err(|err| Error::Usage(format!("benchmark event: {err}")))?;
        let bytes = custody::sign_entry(&key, &header, &v)?;
        header.prev = Some(custody::entry_hash(&bytes));
        w.write_all(&bytes).map_err(io(path))?;
        n += 1;
    }
    w.flush().map_err(io(path))?;
    Ok(n)
}

/// `custody bench --shapes`: crafted ledgers that used to blow up, against
/// ordinary ones of the same size, each command in its own process.
pub fn shapes(out: &mut impl Write, dir: Option<PathBuf>) -> Result<(), Failure> {
    let (_guard, root) = scratch(dir)?;
    let steps: u64 = 20_000;
    // A lineage chain: each artifact derived from the one before, the first
    // restricted, the last released and assigned: two entries a step.
    let chain = root.join("chain.custody");
    let mut events = vec![
        r#"{"type":"artifact","id":"a0","kind":"data"}"#.to_string(),
        r#"{"type":"license","artifact":"a0","license":"CC-BY-NC-4.0"}"#.to_string(),
    ];
    for i in 1..=steps {
        events.push(format!(
            r#"{{"type":"artifact","id":"a{i}","kind":"data"}}"#
        ));
        events.push(format!(
            r#"{{"type":"transformation","operation":"step","inputs":["a{}"],"outputs":["a{i}"]}}"#,
            i - 1
        ));
    }
    events.push(format!(
        r#"{{"type":"license","artifact":"a{steps}","license":"CC-BY-4.0"}}"#
    ));
    events.push(format!(
        r#"{{"type":"release","artifact":"a{steps}","access":"public"}}"#
    ));
    events.push(format!(
        r#"{{"type":"component","component":"pretraining-data","artifacts":["a{steps}"]}}"#
    ));
    chain_row(out, &chain, "lineage chain", steps, events, true)?;
    // The same chain with every step licensed, released and assigned to
    // the component: 20,001 artifact levels and warnings in the output.
    let wide = root.join("chain-all-assigned.custody");
    let mut events = vec![
        r#"{"type":"artifact","id":"a0","kind":"data"}"#.to_string(),
        r#"{"type":"license","artifact":"a0","license":"CC-BY-NC-4.0"}"#.to_string(),
        r#"{"type":"release","artifact":"a0","access":"public"}"#.to_string(),
    ];
    for i in 1..=steps {
        events.push(format!(
            r#"{{"type":"artifact","id":"a{i}","kind":"data"}}"#
        ));
        events.push(format!(
            r#"{{"type":"transformation","operation":"step","inputs":["a{}"],"outputs":["a{i}"]}}"#,
            i - 1
        ));
        events.push(format!(
            r#"{{"type":"license","artifact":"a{i}","license":"CC-BY-4.0"}}"#
        ));
        events.push(format!(
            r#"{{"type":"release","artifact":"a{i}","access":"public"}}"#
        ));
    }
    let ids: Vec<String> = (0..=steps).map(|i| format!("\"a{i}\"")).collect();
    for part in ids.chunks(5000) {
        events.push(format!(
            r#"{{"type":"component","component":"pretraining-data","artifacts":[{}]}}"#,
            part.join(",")
        ));
    }
    chain_row(
        out,
        &wide,
        "lineage chain, every step assigned",
        steps,
        events,
        false,
    )?;

    // Fan-in: every production consumes the same 2,000 sources.
    let sources = 2000u64;
    let fanin = root.join("fan-in.custody");
    let mut events: Vec<String> = (0..sources)
        .map(|i| format!(r#"{{"type":"artifact","id":"s{i:04}","kind":"data"}}"#))
        .collect();
    let inputs: Vec<String> = (0..sources).map(|i| format!("\"s{i:04}\"")).collect();
    let inputs = inputs.join(",");
    for j in 0..600 {
        events.push(format!(
            r#"{{"type":"artifact","id":"o{j}","kind":"data"}}"#
        ));
        events.push(format!(
            r#"{{"type":"transformation","operation":"merge","inputs":[{inputs}],"outputs":["o{j}"]}}"#
        ));
    }
    let fan_entries = signed_file(&fanin, "fan-in", events.into_iter())?;
    let fan_bytes = std::fs::metadata(&fanin).map_err(io(&fanin))?.len();
    // An ordinary ledger of the same size: the realistic events of `bench`.
    let ordinary = root.join("ordinary.custody");
    let mut k = 0u64;
    let mut total = 0u64;
    let mut ordinary_events =
        vec![r#"{"type":"artifact","id":"teacher","kind":"weights"}"#.to_string()];
    while total < fan_bytes {
        let e = event(k);
        total += e.len() as u64 + 200;
        ordinary_events.push(e);
        k += 1;
    }
    let ord_entries = signed_file(&ordinary, "ordinary", ordinary_events.into_iter())?;
    let ord_bytes = std::fs::metadata(&ordinary).map_err(io(&ordinary))?.len();
    let (t_fan, _) = measured(&["verify"], &fanin)?;
    let (t_ord, _) = measured(&["verify"], &ordinary)?;
    writeln!(
        out,
        "fan-in: {fan_entries} entries, {:.1} MB; ordinary: {ord_entries} entries, {:.1} MB",
        fan_bytes as f64 / 1e6,
        ord_bytes as f64 / 1e6
    )?;
    let per_mb = |t: Duration, b: u64| t.as_secs_f64() / (b as f64 / 1e6);
    writeln!(
        out,
        "  verify: fan-in {:.2} s, ordinary {:.2} s; per MB {:.3} s vs {:.3} s: {:.2}x (target: within 2x)",
        t_fan.as_secs_f64(),
        t_ord.as_secs_f64(),
        per_mb(t_fan, fan_bytes),
        per_mb(t_ord, ord_bytes),
        per_mb(t_fan, fan_bytes) / per_mb(t_ord, ord_bytes)
    )?;
    let (t_fo, mb_fo) = measured(&["openness", "--json"], &fanin)?;
    writeln!(
        out,
        "  openness --json of the fan-in ledger: {:.2} s, peak RSS {mb_fo:.1} MB",
        t_fo.as_secs_f64()
    )?;

    // Wide productions: each names 2,500 outputs and 3,000 inputs (an
    // entry near the 64 KiB limit), the shape that once cost every output
    // its own copy of the parents.
    let wide = root.join("wide-productions.custody");
    let inputs = 3000u64;
    let mut events: Vec<String> = (0..inputs)
        .map(|i| format!(r#"{{"type":"artifact","id":"i{i}","kind":"data"}}"#))
        .collect();
    let input_list: Vec<String> = (0..inputs).map(|i| format!("\"i{i}\"")).collect();
    let input_list = input_list.join(",");
    for p in 0..12 {
        let outs: Vec<String> = (0..2500).map(|k| format!("\"p{p}o{k}\"")).collect();
        for k in 0..2500 {
            events.push(format!(
                r#"{{"type":"artifact","id":"p{p}o{k}","kind":"data"}}"#
            ));
        }
        events.push(format!(
            r#"{{"type":"transformation","operation":"split","inputs":[{input_list}],"outputs":[{}]}}"#,
            outs.join(",")
        ));
    }
    let wide_entries = signed_file(&wide, "wide productions", events.into_iter())?;
    let wide_bytes = std::fs::metadata(&wide).map_err(io(&wide))?.len();
    let (t_w, mb_w) = measured(&["verify"], &wide)?;
    let (t_wo, mb_wo) = measured(&["openness", "--json"], &wide)?;
    writeln!(
        out,
        "wide productions: {wide_entries} entries, {:.1} MB\n  verify: {:.2} s, peak RSS {mb_w:.1} MB; per MB {:.3} s vs ordinary {:.3} s: {:.2}x\n  openness --json: {:.2} s, peak RSS {mb_wo:.1} MB",
        wide_bytes as f64 / 1e6,
        t_w.as_secs_f64(),
        per_mb(t_w, wide_bytes),
        per_mb(t_ord, ord_bytes),
        per_mb(t_w, wide_bytes) / per_mb(t_ord, ord_bytes),
        t_wo.as_secs_f64()
    )?;
    Ok(())
}

fn chain_row(
    out: &mut impl Write,
    file: &Path,
    what: &str,
    steps: u64,
    events: Vec<String>,
    targets: bool,
) -> Result<(), Failure> {
    let entries = signed_file(file, what, events.into_iter())?;
    let mb = std::fs::metadata(file).map_err(io(file))?.len() as f64 / 1e6;
    writeln!(out, "{what}: {steps} steps, {entries} entries, {mb:.1} MB")?;
    let (t_open, mb_open) = measured(&["openness", "--json"], file)?;
    let (t_ver, mb_ver) = measured(&["verify"], file)?;
    writeln!(
        out,
        "  openness --json: {:.2} s, peak RSS {mb_open:.1} MB{}\n  verify alone:    {:.2} s, peak RSS {mb_ver:.1} MB",
        t_open.as_secs_f64(),
        if targets {
            " (targets: under 2 s, under 100 MB)"
        } else {
            ""
        },
        t_ver.as_secs_f64()
    )?;
    Ok(())
}

pub(crate) fn scratch(
    dir: Option<PathBuf>,
) -> Result<(Option<tempfile::TempDir>, PathBuf), Failure> {
    Ok(match dir {
        Some(d) => {
            std::fs::create_dir_all(&d).map_err(io(&d))?;
            (None, d)
        }
        None => {
            let t = tempfile::tempdir().map_err(io(Path::new("temporary directory")))?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    })
}

fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn seed_key(b: u8) -> SigningKey {
    // Benchmark keys only; fixed so runs compare.
    SigningKey::from_bytes(&[b; 32])
}

struct Row {
    size: u64,
    append: f64,
    append_plain: f64,
    prove_us: f64,
    check_us: f64,
    consistency_us: f64,
    sign_store: f64,
    verify: f64,
    verify_peak_mb: f64,
    bare_batch: f64,
    bare_strict: f64,
    file_mb: f64,
}

pub fn run(out: &mut impl Write, sizes: &[u64], dir: Option<PathBuf>) -> Result<(), Failure> {
    let (_guard, root) = scratch(dir)?;
    // Benchmark keys' high-water marks stay in the scratch space.
    std::env::set_var("CUSTODY_STATE_DIR", root.join("state"));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    writeln!(
        out,
        "custody bench on {cores} core(s), scratch space in {}",
        root.display()
    )?;
    let mut rows = Vec::new();
    for &size in sizes {
        if size < 13 {
            return Err(Error::Usage("sizes must be at least 13 entries".into()).into());
        }
        writeln!(out, "\n== {size} entries ==")?;
        out.flush()?;
        rows.push(one(out, &root.join(format!("n{size}")), size)?);
    }
    writeln!(out, "\n| entries | append/s | bare sign+store/s | append vs bare | verify/s | bare strict verify/s (all cores) | verify vs strict | bare batch verify/s | verify vs batch | verify peak RSS | export size |")?;
    writeln!(
        out,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    let merkle_rows: Vec<(u64, f64, f64, f64, f64, f64)> = rows
        .iter()
        .map(|r| {
            (
                r.size,
                r.append,
                r.append_plain,
                r.prove_us,
                r.check_us,
                r.consistency_us,
            )
        })
        .collect();
    for r in rows {
        writeln!(
            out,
            "| {} | {:.0} | {:.0} | {:.0}% | {:.0} | {:.0} | {:.0}% | {:.0} | {:.0}% | {:.1} MB | {:.1} MB |",
            r.size,
            r.append,
            r.sign_store,
            100.0 * r.append / r.sign_store,
            r.verify,
            r.bare_strict,
            100.0 * r.verify / r.bare_strict,
            r.bare_batch,
            100.0 * r.verify / r.bare_batch,
            r.verify_peak_mb,
            r.file_mb
        )?;
    }
    writeln!(out, "\n| entries | append/s with tree | append/s without | ratio | inclusion proof build | inclusion proof verify | consistency proof build |")?;
    writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|")?;
    for r in &merkle_rows {
        writeln!(
            out,
            "| {} | {:.0} | {:.0} | {:.0}% | {:.1} µs | {:.1} µs | {:.1} µs |",
            r.0,
            r.1,
            r.2,
            100.0 * r.1 / r.2,
            r.3,
            r.4,
            r.5
        )?;
    }
    Ok(())
}

/// Rounds of each measurement compared with a bound; the best counts.
const ROUNDS: usize = 3;

/// Bare bound for append: sign bodies as large as the real entries' and
/// store body and signature in sled, in the same batches, then flush.
fn bare_sign_store(
    dir: &Path,
    key: &SigningKey,
    avg: usize,
    events: u64,
) -> Result<Duration, Failure> {
    let bare_dir = dir.join("bare-store");
    if bare_dir.exists() {
        std::fs::remove_dir_all(&bare_dir).map_err(io(&bare_dir))?;
    }
    let db = sled::Config::new()
        .path(&bare_dir)
        .cache_capacity(32 * 1024 * 1024)
        .flush_every_ms(None)
        .open()
        .map_err(|e| Error::Store(e.to_string()))?;
    let body = vec![0x5au8; avg];
    let t = Instant::now();
    let mut done = 0u64;
    while done < events {
        let n = APPEND_BATCH.min(events - done);
        let mut batch = sled::Batch::default();
        for k in done..done + n {
            let mut v = body.clone();
            v[..8].copy_from_slice(&k.to_be_bytes());
            let sig = key.sign(&v).to_bytes();
            v.extend_from_slice(&sig);
            batch.insert(&k.to_be_bytes()[..], v);
        }
        db.apply_batch(batch)
            .map_err(|e| Error::Store(e.to_string()))?;
        db.flush().map_err(|e| Error::Store(e.to_string()))?;
        done += n;
    }
    let spent = t.elapsed();
    drop(db);
    std::fs::remove_dir_all(&bare_dir).map_err(io(&bare_dir))?;
    Ok(spent)
}

/// The bare bound's messages and signatures, for the verification bounds.
fn bare_signatures(key: &SigningKey, avg: usize, events: u64) -> Vec<(Vec<u8>, [u8; 64])> {
    let body = vec![0x5au8; avg];
    (0..events)
        .map(|k| {
            let mut msg = body.clone();
            msg[..8].copy_from_slice(&k.to_be_bytes());
            let sig = key.sign(&msg).to_bytes();
            (msg, sig)
        })
        .collect()
}

/// Appends `events` benchmark events to `ledger` with the appender's key,
/// in batches of up to `APPEND_BATCH`; the time spent in the appends.
fn timed_appends(ledger: &Path, events: u64, merkle_tree: bool) -> Result<Duration, Failure> {
    let appender = seed_key(2);
    let opts = custody::AppendOptions {
        merkle_tree,
        ..Default::default()
    };
    let mut done = 0;
    let mut spent = Duration::ZERO;
    while done < events {
        let n = APPEND_BATCH.min(events - done);
        let mut text = String::with_capacity(n as usize * 200);
        for k in done..done + n {
            text.push_str(&event(k));
            text.push('\n');
        }
        let t = Instant::now();
        custody::append_with(ledger, &appender, text.as_bytes(), &opts)?;
        spent += t.elapsed();
        done += n;
    }
    Ok(spent)
}

/// One measurement in a process of its own (`custody bench --child`), so
/// that none inherits another's heap: memory a measurement before freed
/// (sled's, hundreds of megabytes) would spare the next its page faults.
fn in_child(args: &[String]) -> Result<Duration, Failure> {
    let exe = std::env::current_exe().map_err(io(Path::new("custody")))?;
    let out = Command::new(exe)
        .arg("bench")
        .arg("--child")
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .map_err(io(Path::new("custody bench --child")))?;
    let secs = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| out.status.success() && s.is_finite() && *s >= 0.0);
    match secs {
        Some(s) => Ok(Duration::from_secs_f64(s)),
        None => Err(Error::Usage(format!(
            "the benchmark's child process `{}` failed",
            args.join(" ")
        ))
        .into()),
    }
}

/// The child side of [`in_child`]: `append LEDGER tree|plain EVENTS` or
/// `bare DIR BODY_BYTES EVENTS`; prints the seconds spent.
pub fn child(out: &mut impl Write, args: &[String]) -> Result<(), Failure> {
    let bad = || Error::Usage(format!("bench --child: cannot read {args:?}"));
    let num = |s: &String| s.parse::<u64>().map_err(|_| bad());
    let spent = match args {
        [kind, ledger, tree, events] if kind == "append" => timed_appends(
            Path::new(ledger),
            num(events)?,
            match tree.as_str() {
                "tree" => true,
                "plain" => false,
                _ => return Err(bad().into()),
            },
        )?,
        [kind, dir, avg, events] if kind == "bare" => bare_sign_store(
            Path::new(dir),
            &seed_key(2),
            num(avg)? as usize,
            num(events)?,
        )?,
        _ => return Err(bad().into()),
    };
    writeln!(out, "{}", spent.as_secs_f64())?;
    Ok(())
}

fn one(out: &mut impl Write, dir: &Path, size: u64) -> Result<Row, Failure> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io(dir))?;
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let owner = seed_key(1);
    let appender = seed_key(2);
    let ledger = dir.join("ledger");
    // The pipeline's key also records the component map, an owner's claim.
    let setup = format!(
        "{{\"type\":\"grant\",\"key\":\"{}\",\"role\":\"owner\"}}\n{{\"type\":\"artifact\",\"id\":\"teacher\",\"kind\":\"weights\"}}\n",
        hex::encode(appender.verifying_key().as_bytes())
    );
    let events = size - 3;

    // Append, in batches as a pipeline would; the best of ROUNDS fresh
    // ledgers, each followed by a round of its bare bound (below), so that
    // load from elsewhere on the machine weighs on both alike.
    let append_round = |ledger: &Path| -> Result<Duration, Failure> {
        if ledger.exists() {
            std::fs::remove_dir_all(ledger).map_err(io(ledger))?;
        }
        // A new ledger in the same place: the keys' memory of the old one
        // (marks, which ledger they built on there) goes with it.
        if let Some(state) = std::env::var_os("CUSTODY_STATE_DIR") {
            let _ = std::fs::remove_dir_all(state);
        }
        custody::init(ledger, &owner, "bench")?;
        custody::append(ledger, &owner, setup.as_bytes())?;
        in_child(&[
            "append".into(),
            ledger.display().to_string(),
            "tree".into(),
            events.to_string(),
        ])
    };
    let mut spent = Duration::MAX;
    let mut bare_spent = Duration::MAX;
    // Entries average about this many bytes of body (measured on the
    // first round's export; refined below).
    let mut avg = 0usize;
    for round in 0..ROUNDS {
        spent = spent.min(append_round(&ledger)?);
        if round == 0 {
            let file = dir.join("ledger.custody");
            custody::export(
                &ledger,
                custody::Output::File {
                    path: &file,
                    overwrite: true,
                },
            )?;
            let bytes = std::fs::metadata(&file).map_err(io(&file))?.len();
            avg = (bytes / size) as usize - 68;
        }
        let d = in_child(&[
            "bare".into(),
            dir.display().to_string(),
            avg.to_string(),
            events.to_string(),
        ])?;
        bare_spent = bare_spent.min(d);
    }
    let sigs = bare_signatures(&appender, avg, events);
    let sign_store = rate(events, bare_spent);
    let append = rate(events, spent);
    writeln!(out, "append:            {append:>10.0} entries/s ({events} events in batches of up to {APPEND_BATCH}, {:.1} s)", spent.as_secs_f64())?;

    // The same appends without maintaining the Merkle tree.
    // Another name: begun in the same second by the same key, a ledger of
    // the same name would be the same ledger (its genesis is the same), and
    // the appender's mark would rightly take this one for a rolled-back
    // copy of it.
    let plain = dir.join("ledger-no-tree");
    custody::init(&plain, &owner, "bench-no-tree")?;
    custody::append(&plain, &owner, setup.as_bytes())?;
    let spent_plain = in_child(&[
        "append".into(),
        plain.display().to_string(),
        "plain".into(),
        events.to_string(),
    ])?;
    let append_plain = rate(events, spent_plain);
    std::fs::remove_dir_all(&plain).map_err(io(&plain))?;
    writeln!(
        out,
        "append, no tree:   {append_plain:>10.0} entries/s (with the tree: {:.0}%)",
        100.0 * append / append_plain
    )?;

    // Proofs from the stored tree.
    let tree = custody::LedgerTree::open(&ledger)?;
    let n = tree.size();
    let root = tree.root(n)?;
    let samples = 1000u64;
    let pick = |i: u64| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11) % n;
    let t = Instant::now();
    let mut proofs = Vec::with_capacity(samples as usize);
    for i in 0..samples {
        let seq = pick(i);
        proofs.push((seq, tree.inclusion_proof(seq, n)?));
    }
    let prove_us = t.elapsed().as_secs_f64() * 1e6 / samples as f64;
    let leaves: Vec<custody::TreeHash> = proofs
        .iter()
        .map(|(s, _)| tree.leaf(*s))
        .collect::<Result<_, _>>()?;
    let t = Instant::now();
    let mut all_ok = true;
    for ((seq, p), leaf) in proofs.iter().zip(&leaves) {
        all_ok &= custody::verify_inclusion(*seq, n, leaf, p, &root).is_ok();
    }
    let check_us = t.elapsed().as_secs_f64() * 1e6 / samples as f64;
    let t = Instant::now();
    for i in 0..samples {
        let m = 1 + pick(i) % (n - 1);
        tree.consistency_proof(m, n)?;
    }
    let consistency_us = t.elapsed().as_secs_f64() * 1e6 / samples as f64;
    drop(tree);
    writeln!(out, "inclusion proof:   {prove_us:>10.1} µs to build, {check_us:.1} µs to verify (mean of {samples}, all ok: {all_ok})")?;
    writeln!(
        out,
        "consistency proof: {consistency_us:>10.1} µs to build (mean of {samples})"
    )?;

    let file = dir.join("ledger.custody");
    custody::export(
        &ledger,
        custody::Output::File {
            path: &file,
            overwrite: true,
        },
    )?;
    let file_bytes = std::fs::metadata(&file).map_err(io(&file))?.len();
    let file_mb = file_bytes as f64 / 1e6;

    let _ = file_bytes;
    writeln!(
        out,
        "bare sign+store:   {sign_store:>10.0} entries/s ({avg}-byte bodies, same batches; best of {ROUNDS})"
    )?;

    // Verify the file with the real command in its own process, and the
    // bare bound of strict verification on all cores, alternately; the
    // best of ROUNDS of each.
    let vk: VerifyingKey = appender.verifying_key();
    let key_bytes = vk.to_bytes();
    let mut elapsed = Duration::MAX;
    let mut verify_peak_mb = 0f64;
    let mut strict_spent = Duration::MAX;
    let mut all = true;
    for _ in 0..ROUNDS {
        let (e, peak) = measured(&["verify"], &file)?;
        if e < elapsed {
            elapsed = e;
            verify_peak_mb = peak;
        }
        let t = Instant::now();
        for chunk in sigs.chunks(2048) {
            let items: Vec<custody::SignatureItem<'_>> = chunk
                .iter()
                .map(|(m, s)| (&key_bytes, m.as_slice(), s))
                .collect();
            all &= custody::verify_signatures(&items).iter().all(|&b| b);
        }
        strict_spent = strict_spent.min(t.elapsed());
    }
    let bare_strict = rate(events, strict_spent);
    let verify = rate(size, elapsed);
    writeln!(out, "verify (file):     {verify:>10.0} entries/s ({:.1} s, peak RSS {verify_peak_mb:.1} MB, file {file_mb:.1} MB; best of {ROUNDS})", elapsed.as_secs_f64())?;

    // Bare bound of batch verification, on the signatures made above.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let t = Instant::now();
    let per = sigs.len().div_ceil(cores);
    let ok = std::thread::scope(|s| {
        sigs.chunks(per)
            .map(|part| {
                s.spawn(move || {
                    part.chunks(256).all(|b| {
                        let msgs: Vec<&[u8]> = b.iter().map(|(m, _)| m.as_slice()).collect();
                        let ss: Vec<Signature> =
                            b.iter().map(|(_, s)| Signature::from_bytes(s)).collect();
                        let ks = vec![vk; b.len()];
                        ed25519_dalek::verify_batch(&msgs, &ss, &ks).is_ok()
                    })
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .all(|h| h.join().unwrap_or(false))
    });
    let bare_batch = rate(events, t.elapsed());
    writeln!(out, "bare batch verify: {bare_batch:>10.0} signatures/s (batches of 256 on {cores} core(s), all ok: {ok})")?;

    writeln!(out, "bare strict verify:{bare_strict:>10.0} signatures/s (verify_strict on {cores} core(s), all ok: {all}; best of {ROUNDS})")?;
    std::fs::remove_dir_all(dir).map_err(io(dir))?;
    Ok(Row {
        size,
        append,
        append_plain,
        prove_us,
        check_us,
        consistency_us,
        sign_store,
        verify,
        verify_peak_mb,
        bare_batch,
        bare_strict,
        file_mb,
    })
}
