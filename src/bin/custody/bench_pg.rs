//! `custody bench --postgres URL`: the PostgreSQL store against sled, and
//! concurrent appenders into one PostgreSQL ledger. Each appender is a
//! `custody append` process, as on the machines of a pipeline; every
//! measurement makes a ledger of its own in the database (named
//! `bench-...` with the run's time), which stays there afterwards.

use crate::bench::{event, io, scratch};
use crate::Failure;
use custody::{Error, SigningKey};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Events in the single-appender batch.
const SINGLE: u64 = 100_000;
/// Events per batch of the concurrent appenders.
const BATCH: u64 = 1_000;
/// Batches per concurrent appender.
const BATCHES: u64 = 10;

fn url_for(base: &str, ledger: &str) -> String {
    let base = base.split('?').next().unwrap_or(base);
    format!("{base}?ledger={ledger}")
}

fn events(first: u64, n: u64) -> String {
    let mut s = String::with_capacity(n as usize * 200);
    for k in first..first + n {
        s.push_str(&event(k));
        s.push('\n');
    }
    s
}

/// A fresh ledger with `appender` granted (as an owner, since the events
/// include the component map) and the teacher model declared.
fn setup(loc: &custody::Location, owner: &SigningKey, appender: &SigningKey) -> Result<(), Error> {
    custody::init(loc, owner, "bench")?;
    let setup = format!(
        "{{\"type\":\"grant\",\"key\":\"{}\",\"role\":\"owner\"}}\n{{\"type\":\"artifact\",\"id\":\"teacher\",\"kind\":\"weights\"}}\n",
        hex::encode(appender.verifying_key().as_bytes())
    );
    custody::append(loc, owner, setup.as_bytes())?;
    Ok(())
}

pub fn run(out: &mut impl Write, url: &str, dir: Option<PathBuf>) -> Result<(), Failure> {
    let (_guard, root) = scratch(dir)?;
    std::env::set_var("CUSTODY_STATE_DIR", root.join("state"));
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let owner = SigningKey::from_bytes(&[1; 32]);
    let appender = SigningKey::from_bytes(&[2; 32]);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    writeln!(
        out,
        "custody bench --postgres on {cores} core(s), ledgers bench-{stamp}-* in {}",
        custody::Location::parse(url)
    )?;

    // One appender, one batch of SINGLE events: sled, then PostgreSQL,
    // alternately, best of two each.
    let text = events(0, SINGLE);
    let (mut sled_best, mut pg_best) = (Duration::MAX, Duration::MAX);
    for round in 0..2 {
        let dir = root.join(format!("sled-{round}"));
        let loc = custody::Location::Path(dir.clone());
        setup(&loc, &owner, &appender)?;
        let t = Instant::now();
        custody::append(&loc, &appender, text.as_bytes())?;
        sled_best = sled_best.min(t.elapsed());
        std::fs::remove_dir_all(&dir).map_err(io(&dir))?;

        let loc = custody::Location::parse(&url_for(url, &format!("bench-{stamp}-single-{round}")));
        setup(&loc, &owner, &appender)?;
        let t = Instant::now();
        custody::append(&loc, &appender, text.as_bytes())?;
        pg_best = pg_best.min(t.elapsed());
    }
    let sled_rate = SINGLE as f64 / sled_best.as_secs_f64();
    let pg_rate = SINGLE as f64 / pg_best.as_secs_f64();
    writeln!(
        out,
        "\n| one batch of {SINGLE} events | entries/s | vs sled |\n|---|---:|---:|\n| sled | {sled_rate:.0} | 100% |\n| PostgreSQL | {pg_rate:.0} | {:.0}% |",
        100.0 * pg_rate / sled_rate
    )?;
    out.flush()?;

    // Concurrent appenders: N processes, each appending BATCHES batches of
    // BATCH events, one `custody append` per batch. They share the
    // pipeline's appender key, as the workers of one pipeline do; in the
    // last row each has a key of its own, so each verifies the others'
    // entries before it signs.
    let exe = std::env::current_exe().map_err(io(Path::new("custody")))?;
    let shared_key = root.join("appender.key");
    custody::write_key_files(&appender, &shared_key)?;
    writeln!(
        out,
        "\n| appenders | batches | entries/s (all) | retries per batch (mean, max) | batch latency p50 | p99 |\n|---|---:|---:|---:|---:|---:|"
    )?;
    for (n, shared) in [(1u64, true), (4, true), (8, true), (4, false)] {
        let url_n = url_for(
            url,
            &format!(
                "bench-{stamp}-concurrent-{n}{}",
                if shared { "" } else { "-own-keys" }
            ),
        );
        let loc = custody::Location::parse(&url_n);
        setup(&loc, &owner, &appender)?;
        let keys: Vec<PathBuf> = (0..n)
            .map(|a| {
                if shared {
                    return Ok(shared_key.clone());
                }
                let k = SigningKey::from_bytes(&[10 + a as u8; 32]);
                let p = root.join(format!("appender-{a}.key"));
                if !p.exists() {
                    custody::write_key_files(&k, &p)?;
                }
                let grant = format!(
                    "{{\"type\":\"grant\",\"key\":\"{}\",\"role\":\"owner\"}}\n",
                    hex::encode(k.verifying_key().as_bytes())
                );
                custody::append(&loc, &owner, grant.as_bytes())?;
                Ok(p)
            })
            .collect::<Result<_, Error>>()?;
        let files: Vec<Vec<PathBuf>> = (0..n)
            .map(|a| {
                (0..BATCHES)
                    .map(|b| {
                        let p = root.join(format!("c{n}-{a}-{b}.jsonl"));
                        // Ranges far apart, starting at a multiple of 12
                        // (one dataset's 12 events).
                        let first = a * 12_000_000 + b * BATCH;
                        std::fs::write(&p, events(first, BATCH)).map_err(io(&p))?;
                        Ok(p)
                    })
                    .collect::<Result<Vec<_>, Failure>>()
            })
            .collect::<Result<_, _>>()?;
        let start = Instant::now();
        let results: Vec<Result<(Duration, u32), String>> = std::thread::scope(|s| {
            let handles: Vec<_> = files
                .iter()
                .zip(&keys)
                .map(|(batches, key)| {
                    let (exe, url_n) = (&exe, &url_n);
                    s.spawn(move || {
                        batches
                            .iter()
                            .map(|f| {
                                let t = Instant::now();
                                let o = std::process::Command::new(exe)
                                    .arg("append")
                                    .arg(url_n)
                                    .arg("--key")
                                    .arg(key)
                                    .arg(f)
                                    .output()
                                    .map_err(|e| e.to_string())?;
                                let took = t.elapsed();
                                if !o.status.success() {
                                    return Err(String::from_utf8_lossy(&o.stderr).into_owned());
                                }
                                let stdout = String::from_utf8_lossy(&o.stdout);
                                Ok((took, retries(&stdout)))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|_| vec![Err("panicked".into())]))
                .collect()
        });
        let wall = start.elapsed();
        let mut lat = Vec::new();
        let mut tries = Vec::new();
        for r in results {
            let (d, t) = r.map_err(|e| Error::Store(format!("an appender failed: {e}")))?;
            lat.push(d);
            tries.push(t);
        }
        lat.sort();
        let pct = |p: f64| lat[((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1];
        let total = n * BATCHES * BATCH;
        writeln!(
            out,
            "| {n}{} | {} | {:.0} | {:.2}, {} | {:.0} ms | {:.0} ms |",
            if shared { "" } else { ", keys of their own" },
            lat.len(),
            total as f64 / wall.as_secs_f64(),
            tries.iter().map(|&t| f64::from(t)).sum::<f64>() / tries.len() as f64,
            tries.iter().max().copied().unwrap_or(0),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
        )?;
        out.flush()?;
        let v = custody::verify_any(custody::Location::parse(&url_n), &Default::default())?;
        let expected = total + 3 + if shared { 0 } else { n };
        if v.entries() != expected {
            return Err(Error::Store(format!(
                "the ledger holds {} entries, {expected} were appended",
                v.entries()
            ))
            .into());
        }
        for batches in &files {
            for f in batches {
                let _ = std::fs::remove_file(f);
            }
        }
    }
    Ok(())
}

/// The retries an `append` reported: "... (after N retries)".
fn retries(stdout: &str) -> u32 {
    stdout
        .split("(after ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
