//! The `custody` command: argument parsing, output and exit statuses over
//! the `custody` library.

mod attest;
mod bench;
mod bench_pg;
mod card;
mod cli;
mod demo;
mod licenses;
mod openness;
mod output;
mod progress;
mod report;
mod serve;

use clap::Parser;
use cli::{Cli, Command, Prove};
use custody::Error;
use output::safe;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Exit statuses.
const EXIT_INVALID: u8 = 1;
const EXIT_ERROR: u8 = 2;

/// How a command ended, beyond success.
pub enum Failure {
    /// A library error, reported with a hint.
    Lib(Error),
    /// The ledger failed verification and the command already said so.
    Reported,
    /// Writing output failed.
    Io(io::Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Lib(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !(cli.wait.is_finite() && cli.wait >= 0.0) {
        eprintln!("custody: --wait takes a number of seconds, 0 or more");
        return ExitCode::from(EXIT_ERROR);
    }
    custody::set_lock_wait(
        std::time::Duration::from_secs_f64(cli.wait.min(1e9)),
        Some(|path, wait| {
            eprintln!(
                "custody: {} is in use by another custody process; waiting up to {:.1} s (--wait)",
                safe(&path.display().to_string()),
                wait.as_secs_f64()
            )
        }),
    );
    progress::install();
    let result = run(cli);
    progress::finish();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Reported) => ExitCode::from(EXIT_INVALID),
        // A closed pipe (`custody log | head`) is not an error.
        Err(Failure::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Io(e)) => {
            eprintln!("custody: {}", safe(&e.to_string()));
            ExitCode::from(EXIT_ERROR)
        }
        Err(Failure::Lib(e)) => {
            report(&e);
            match e {
                Error::Invalid(_) => ExitCode::from(EXIT_INVALID),
                _ => ExitCode::from(EXIT_ERROR),
            }
        }
    }
}

fn read_text(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })
}

/// A verifier key given as itself or as a file holding it.
fn read_vkey(arg: &str) -> Result<custody::VerifierKey, Error> {
    if let Ok(k) = custody::VerifierKey::parse(arg) {
        return Ok(k);
    }
    let text = read_text(Path::new(arg)).map_err(|_| {
        Error::Usage(format!(
            "`{arg}` is neither a verifier key nor a file holding one"
        ))
    })?;
    custody::VerifierKey::parse(&text).map_err(|m| Error::Usage(format!("{arg}: {m}")))
}

/// Prints an error with what to do next. Ledger text in messages is
/// escaped: it could hold anything.
fn report(e: &Error) {
    match e {
        Error::Input(i) => {
            eprintln!("custody: {}", safe(&i.to_string()));
            eprintln!("nothing was appended; fix the line and run the whole batch again");
        }
        Error::Invalid(inv) => {
            eprintln!(
                "custody: ledger invalid at {}",
                safe(&inv.error.to_string())
            );
            if inv.entries == 0 {
                eprintln!("no entry verified: nothing in it can be relied on");
            } else {
                eprintln!(
                    "{} entr{} verified before it (0 to {}); do not rely on anything from entry {} on",
                    inv.entries,
                    if inv.entries == 1 { "y" } else { "ies" },
                    inv.entries - 1,
                    inv.entries
                );
            }
        }
        Error::Locked(_) => {
            eprintln!("custody: {}", safe(&e.to_string()));
            eprintln!(
                "wait for it to finish, then run this command again (or give --wait SECONDS)"
            );
        }
        _ => eprintln!("custody: {}", safe(&e.to_string())),
    }
}

/// Whether `path` is a file holding exactly one entry other than a
/// genesis (a one-entry ledger is its genesis alone).
fn single_entry(path: &Path) -> bool {
    let Ok(m) = std::fs::metadata(path) else {
        return false;
    };
    if !m.is_file() || m.len() > custody::MAX_ENTRY_SIZE as u64 + 16 {
        return false;
    }
    std::fs::read(path)
        .ok()
        .and_then(|b| custody::decode_entry(&b).ok())
        .is_some_and(|e| e.seq() > 0)
}

/// Writes a command's output file, or standard output for `-`.
fn write_output(out: &mut dyn Write, file: &Path, force: bool, bytes: &[u8]) -> Result<(), Error> {
    if file == Path::new("-") {
        custody::Output::Writer(out).write(bytes)
    } else {
        custody::Output::File {
            path: file,
            overwrite: force,
        }
        .write(bytes)
    }
}

/// Replaces a served ledger (`http://HOST:PORT/NAME`) given as a SOURCE
/// by a downloaded copy, which the command then verifies as any export:
/// nothing is taken on the server's word.
fn localise(path: &mut PathBuf, keep: &mut Vec<tempfile::NamedTempFile>) -> Result<(), Failure> {
    if let Some(base) = custody::remote_base(path)? {
        let f = custody::fetch(&base)?;
        output::downloaded(f.path(), &base);
        *path = f.path().to_path_buf();
        keep.push(f);
    }
    Ok(())
}

fn run(cli: Cli) -> Result<(), Failure> {
    let mut cli = cli;
    let mut downloads = Vec::new();
    match &mut cli.command {
        Command::Verify { source, .. } | Command::Log { source, .. } => {
            localise(source, &mut downloads)?
        }
        Command::Export { ledger, .. } => localise(ledger, &mut downloads)?,
        Command::Prove {
            what: cli::Prove::Inclusion { source, key, .. },
        } => {
            if key.is_some() && custody::remote_base(source)?.is_some() {
                return Err(Error::Usage(
                    "a served ledger's checkpoints are signed by its server (GET .../checkpoint, \
                     or .../proof/inclusion?seq=N); to sign one with your key, download the \
                     ledger with `custody export URL --out FILE` and prove from FILE"
                        .into(),
                )
                .into());
            }
            localise(source, &mut downloads)?
        }
        Command::Prove {
            what: cli::Prove::Consistency { source, .. },
        } => localise(source, &mut downloads)?,
        Command::Attest { source, .. } => localise(source, &mut downloads)?,
        Command::Openness { sources, .. }
        | Command::Card { sources, .. }
        | Command::Report { sources, .. } => {
            for s in sources {
                localise(s, &mut downloads)?;
            }
        }
        _ => {}
    }
    let stdout = io::stdout();
    let mut out = progress::ClearFirst {
        inner: stdout.lock(),
    };
    match cli.command {
        Command::Keygen { out: path } => {
            let key = custody::generate()?;
            custody::write_key_files(&key, &path)?;
            writeln!(out, "{}", hex::encode(key.verifying_key().as_bytes()))?;
        }
        Command::Init { ledger, key, name } => {
            let key = custody::read_signing_key(&key)?;
            let id = custody::init(&ledger, &key, &name)?;
            writeln!(
                out,
                "created ledger \"{}\" in {}",
                safe(&name),
                safe(&custody::Location::from(&ledger).to_string())
            )?;
            writeln!(out, "ledger id: {}", hex::encode(id))?;
            writeln!(
                out,
                "owner:     {}",
                hex::encode(key.verifying_key().as_bytes())
            )?;
        }
        Command::Append {
            ledger,
            key,
            file,
            allow_empty,
            record_paths,
            owner,
        } => {
            let key = custody::read_signing_key(&key)?;
            let opts = custody::AppendOptions {
                allow_empty,
                record_paths,
                owner: owner.map(|o| custody::read_public_key(&o)).transpose()?,
                ..Default::default()
            };
            if let Some(base) = custody::remote_base(&ledger)? {
                let mut events = Vec::new();
                match file.as_deref() {
                    None => io::stdin().lock().read_to_end(&mut events)?,
                    Some(p) if p == Path::new("-") => {
                        io::stdin().lock().read_to_end(&mut events)?
                    }
                    Some(p) => std::fs::File::open(p)
                        .and_then(|mut f| f.read_to_end(&mut events))
                        .map_err(|e| Error::Io {
                            path: p.to_path_buf(),
                            source: e,
                        })?,
                };
                let r = custody::append_remote(&base, &key, &events, &opts)?;
                for w in &r.warnings {
                    eprintln!("custody: warning: {}", safe(w));
                }
                if let Some((a, b)) = r.stored_before {
                    writeln!(
                        out,
                        "these events are already in {base} (entries {a} to {b}), appended by an \
                         earlier attempt whose answer was lost; nothing was appended again; it \
                         holds {}, head {}",
                        r.entries, r.head
                    )?;
                    return Ok(());
                }
                writeln!(
                    out,
                    "appended {} entr{} to {base}; it now holds {}, head {}{}",
                    r.appended,
                    if r.appended == 1 { "y" } else { "ies" },
                    r.entries,
                    r.head,
                    match r.retries {
                        0 => String::new(),
                        1 => " (after 1 retry)".into(),
                        n => format!(" (after {n} retries)"),
                    }
                )?;
                return Ok(());
            }
            let report = match file.as_deref() {
                None => custody::append_with(&ledger, &key, io::stdin().lock(), &opts)?,
                Some(p) if p == Path::new("-") => {
                    custody::append_with(&ledger, &key, io::stdin().lock(), &opts)?
                }
                Some(p) => {
                    let f = std::fs::File::open(p).map_err(|e| Error::Io {
                        path: p.to_path_buf(),
                        source: e,
                    })?;
                    custody::append_with(&ledger, &key, BufReader::new(f), &opts)?
                }
            };
            for w in &report.warnings {
                eprintln!("custody: warning: {}", safe(w));
            }
            writeln!(
                out,
                "appended {} entr{}; the ledger has {} entries; head {}{}",
                report.appended,
                if report.appended == 1 { "y" } else { "ies" },
                report.entries,
                hex::encode(report.head),
                match report.retries {
                    0 => String::new(),
                    1 => " (after 1 retry)".to_string(),
                    n => format!(" (after {n} retries)"),
                }
            )?;
        }
        Command::Verify {
            source,
            owner,
            json,
            checkpoint,
            vkey,
            origin,
        } => {
            let owner = owner.map(|o| custody::read_public_key(&o)).transpose()?;
            let opts = custody::VerifyOptions { owner };
            let mut consistent = None;
            let result = match (checkpoint, vkey) {
                (Some(cp), Some(vkey)) => {
                    let note = read_text(&cp)?;
                    let vkey = read_vkey(&vkey)?;
                    let r = custody::verify_with_checkpoint(
                        &source,
                        &opts,
                        &note,
                        &vkey,
                        origin.as_deref(),
                    );
                    consistent = custody::Checkpoint::parse_unverified(&note).ok().map(|c| {
                        format!(
                            "consistent with the checkpoint of {} entries of `{}` signed by {}",
                            c.size,
                            c.origin,
                            vkey.name()
                        )
                    });
                    r
                }
                _ => custody::verify_any(&source, &opts),
            };
            let ok = result.is_ok();
            output::verify(&mut out, &source, owner.is_some(), result, json)?;
            if let (true, false, Some(line)) = (ok, json, consistent) {
                writeln!(out, "  {}", safe(&line))?;
            }
        }
        Command::Log {
            source,
            seq: Some(seq),
            out: Some(file),
            force,
            ..
        } => {
            let mut found = None;
            custody::verify(&source, &Default::default(), |e| {
                if e.seq() == seq {
                    found = Some(e.bytes().to_vec());
                }
                Ok(())
            })?;
            let Some(bytes) = found else {
                return Err(Error::Usage(format!("the ledger has no entry {seq} to show")).into());
            };
            write_output(&mut out, &file, force, &bytes)?;
            if file != Path::new("-") {
                writeln!(
                    out,
                    "wrote entry {seq} to {}",
                    safe(&file.display().to_string())
                )?;
            }
        }
        Command::Log {
            source,
            json,
            proof,
            vkey,
            ..
        } if proof.is_some() || single_entry(&source) => {
            let bytes = std::fs::read(&source).map_err(|e| Error::Io {
                path: source.clone(),
                source: e,
            })?;
            let entry = match (proof, vkey) {
                (Some(p), Some(vk)) => {
                    let text = read_text(&p)?;
                    let vkey = read_vkey(&vk)?;
                    match custody::verify_proof(&text, &bytes, &vkey) {
                        Ok(p) => {
                            eprintln!(
                                "entry {} is in the log `{}` at tree size {} (checkpoint signed by {}); \
                                 its signature verifies",
                                p.entry.seq(),
                                safe(&p.checkpoint.origin),
                                p.checkpoint.size,
                                safe(vkey.name())
                            );
                            p.entry
                        }
                        Err(m) => {
                            eprintln!("custody: the proof does not hold: {}", safe(&m));
                            return Err(Failure::Reported);
                        }
                    }
                }
                _ => match custody::check_entry(&bytes) {
                    Ok(e) => {
                        eprintln!(
                            "one entry, not a ledger: its signature verifies; that it is in a \
                             ledger, and that its signer held the role it needed, is not shown \
                             (give --proof and --vkey, or verify the ledger)"
                        );
                        e
                    }
                    Err(m) => {
                        eprintln!(
                            "custody: {}: {}",
                            safe(&custody::Location::from(&source).to_string()),
                            safe(&m)
                        );
                        return Err(Failure::Reported);
                    }
                },
            };
            output::log_line(
                &mut out,
                output::LogLine {
                    seq: entry.seq(),
                    time: entry.time(),
                    signer: entry.signer(),
                    hash: entry.hash(),
                    event: entry.event(),
                    json: entry.event_json(),
                },
                json,
            )?;
        }
        Command::Log { source, json, .. } => {
            let result = custody::verify(&source, &Default::default(), |e| {
                output::log_entry(&mut out, &e, json).map_err(|err| Error::Io {
                    path: "<stdout>".into(),
                    source: err,
                })
            });
            match result {
                Ok(_) => {}
                Err(Error::Io { path, source }) if path == Path::new("<stdout>") => {
                    return Err(Failure::Io(source))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Command::Export {
            ledger,
            out: file,
            disclose,
            key,
            force,
        } if !disclose.is_empty() => {
            let selectors = disclose
                .iter()
                .map(|s| custody::Selector::parse(s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(Error::Usage)?;
            let key = match key {
                Some(k) => custody::read_signing_key(&k)?,
                None => {
                    return Err(Error::Usage(
                        "a partial export needs --key: an owner's key signs what it discloses"
                            .into(),
                    )
                    .into())
                }
            };
            let r = if file == Path::new("-") {
                custody::export_partial(
                    &ledger,
                    custody::Output::Writer(&mut out),
                    &selectors,
                    &key,
                )?
            } else {
                custody::export_partial(
                    &ledger,
                    custody::Output::File {
                        path: &file,
                        overwrite: force,
                    },
                    &selectors,
                    &key,
                )?
            };
            let mut err = io::stderr();
            let say: &mut dyn Write = if file == Path::new("-") {
                &mut err
            } else {
                &mut out
            };
            writeln!(
                say,
                "exported a partial ledger to {}: {} of {} entries disclosed, {} withheld as hashes",
                safe(&file.display().to_string()),
                r.disclosed,
                r.entries,
                r.entries - r.disclosed
            )?;
        }
        Command::Export {
            ledger,
            out: file,
            force,
            ..
        } => {
            let v = if file == Path::new("-") {
                custody::export(&ledger, custody::Output::Writer(&mut out))?
            } else {
                custody::export(
                    &ledger,
                    custody::Output::File {
                        path: &file,
                        overwrite: force,
                    },
                )?
            };
            // With the ledger on standard output, the summary goes to stderr.
            let mut err = io::stderr();
            let say: &mut dyn Write = if file == Path::new("-") {
                &mut err
            } else {
                &mut out
            };
            writeln!(
                say,
                "exported {} verified entries of \"{}\" to {}; head {}",
                v.entries(),
                safe(v.name()),
                if file == Path::new("-") {
                    "standard output".to_string()
                } else {
                    safe(&file.display().to_string()).into_owned()
                },
                hex::encode(v.head())
            )?;
        }
        Command::Import { file, ledger } => {
            let v = custody::import(&file, &ledger)?;
            writeln!(
                out,
                "imported {} verified entries of \"{}\" into {}; head {}",
                v.entries(),
                safe(v.name()),
                safe(&custody::Location::from(&ledger).to_string()),
                hex::encode(v.head())
            )?;
        }
        Command::Attest {
            source,
            key,
            out: file,
            force,
            checkpoint,
            checkpoint_vkey,
            slsa,
            owner,
        } => {
            let key = custody::read_signing_key(&key)?;
            let owner = owner.map(|o| custody::read_public_key(&o)).transpose()?;
            let checkpoint = checkpoint.map(|c| read_text(&c)).transpose()?;
            if checkpoint.is_some() != checkpoint_vkey.is_some() {
                return Err(Error::Usage(
                    "--checkpoint and --checkpoint-vkey go together: the checkpoint is carried \
                     only once its signature is checked"
                        .into(),
                )
                .into());
            }
            if let (Some(cp), Some(vkey)) = (&checkpoint, &checkpoint_vkey) {
                // Signed by the log it names (origin and signature), and of
                // this ledger: its tree a prefix of the ledger's (a
                // consistency proof from it must hold).
                let vkey = read_vkey(vkey)?;
                let opened = custody::Checkpoint::open(cp, &vkey)
                    .map_err(|m| Error::Usage(format!("--checkpoint: {m}")))?;
                if opened.origin != vkey.name() {
                    return Err(Error::Usage(format!(
                        "--checkpoint is of the log `{}`, not `{}` that signed it",
                        safe(&opened.origin),
                        safe(vkey.name())
                    ))
                    .into());
                }
                custody::prove_consistency(&source, cp, None).map_err(|e| {
                    Error::Usage(format!("--checkpoint is not of this ledger: {e}"))
                })?;
            }
            let shown = output::shown(&source);
            let statements = attest::statements(
                &source,
                &shown,
                &attest::AttestOptions {
                    owner,
                    checkpoint,
                    slsa,
                },
            )?;
            write_output(&mut out, &file, force, &attest::bundle(&statements, &key))?;
            if file != Path::new("-") {
                writeln!(
                    out,
                    "wrote {} attestation{} signed by {} (keyid {}) to {}",
                    statements.len(),
                    if statements.len() == 1 { "" } else { "s" },
                    hex::encode(key.verifying_key().as_bytes()),
                    custody::dsse_keyid(&key.verifying_key().to_bytes()),
                    safe(&file.display().to_string())
                )?;
            }
        }
        Command::Report {
            sources,
            out: file,
            force,
            owner,
        } => {
            let owner = owner.map(|o| custody::read_public_key(&o)).transpose()?;
            let shown: Vec<String> = sources.iter().map(|s| output::shown(s)).collect();
            let mut buf = Vec::new();
            report::run(&mut buf, &sources, &shown, owner)?;
            write_output(&mut out, &file, force, &buf)?;
            if file != Path::new("-") {
                writeln!(
                    out,
                    "wrote the report to {}",
                    safe(&file.display().to_string())
                )?;
            }
        }
        Command::Card {
            sources,
            owner,
            mof,
            out: file,
            force,
        } => {
            let owner = owner.map(|o| custody::read_public_key(&o)).transpose()?;
            let shown: Vec<String> = sources.iter().map(|s| output::shown(s)).collect();
            let mut buf = Vec::new();
            card::run(&mut buf, &sources, &shown, mof, owner)?;
            write_output(&mut out, &file, force, &buf)?;
            if file != Path::new("-") {
                writeln!(
                    out,
                    "wrote the {} to {}",
                    if mof {
                        "Model Openness Framework file"
                    } else {
                        "model card section"
                    },
                    safe(&file.display().to_string())
                )?;
            }
        }
        Command::Openness {
            sources,
            owner,
            json,
            markdown,
        } => {
            let owner = owner.map(|o| custody::read_public_key(&o)).transpose()?;
            let format = if json {
                openness::Format::Json
            } else if markdown {
                openness::Format::Markdown
            } else {
                openness::Format::Text
            };
            openness::run(&mut out, &sources, format, owner)?;
        }
        Command::Checkpoint {
            ledger,
            key,
            origin,
        } => {
            let key = custody::read_signing_key(&key)?;
            let note = custody::checkpoint(&ledger, &key, origin.as_deref())?;
            write!(out, "{note}")?;
        }
        Command::Serve {
            ledgers,
            listen,
            checkpoint_key,
            ingest_key,
            token_file,
            body_timeout,
        } => {
            let key = checkpoint_key
                .map(|k| custody::read_signing_key(&k))
                .transpose()?;
            let ingest = match (ingest_key, token_file) {
                (Some(k), Some(t)) => {
                    let token = read_text(&t)?.trim().to_string();
                    if token.len() < 16 {
                        return Err(Error::Usage(format!(
                            "{}: the token must be at least 16 characters",
                            t.display()
                        ))
                        .into());
                    }
                    Some(serve::Ingest {
                        key: custody::read_signing_key(&k)?,
                        token,
                    })
                }
                _ => None,
            };
            serve::run(
                &ledgers,
                &listen,
                key,
                ingest,
                Duration::from_secs(body_timeout.max(1)),
            )?;
        }
        Command::Digest {
            paths,
            format,
            manifest,
            follow_symlinks,
            include_git,
            check,
            owner,
        } => {
            let owner = owner.map(|o| custody::read_public_key(&o)).transpose()?;
            let opts = custody::DigestOptions {
                follow_symlinks,
                ignore_git: !include_git,
                threads: 0,
            };
            if let Some(c) = check {
                let [id, source, path] = c.as_slice() else {
                    return Err(Error::Usage("--check takes ARTIFACT_ID SOURCE PATH".into()).into());
                };
                let mut source = PathBuf::from(source);
                localise(&mut source, &mut downloads)?;
                let recorded = custody::recorded_digest(&source, id, owner)?.ok_or_else(|| {
                    Error::Usage(format!("the ledger records no digest for `{}`", safe(id)))
                })?;
                let now = custody::digest_path(Path::new(path), &opts)?;
                if owner.is_none() {
                    eprintln!(
                        "custody: note: the ledger's owner key was not pinned (--owner KEY): \
                         anyone can sign a ledger that records any digest"
                    );
                }
                if now.field() == recorded {
                    writeln!(out, "{}: matches `{}` ({recorded})", safe(path), safe(id))?;
                } else {
                    writeln!(
                        out,
                        "{}: {} differs from the {recorded} the ledger records for `{}`",
                        safe(path),
                        now.field(),
                        safe(id)
                    )?;
                    out.flush()?;
                    return Err(Failure::Reported);
                }
                return Ok(());
            }
            let mut manifests = Vec::new();
            for p in &paths {
                let d = custody::digest_path(p, &opts)?;
                let name = p.display().to_string();
                let shown = safe(&name);
                match format.as_str() {
                    "sha256sum" => {
                        for f in &d.files {
                            let name = if d.directory {
                                format!("{}/{}", p.display(), f.path)
                            } else {
                                p.display().to_string()
                            };
                            writeln!(out, "{}  {}", hex::encode(f.sha256), safe(&name))?;
                        }
                    }
                    "oms" => writeln!(out, "{}", digest_oms(p, &d))?,
                    "json" => writeln!(out, "{}", digest_json(p, &d))?,
                    _ => writeln!(out, "{}  {shown}", d.field())?,
                }
                manifests.push(digest_json(p, &d));
            }
            if let Some(m) = manifest {
                let doc = if manifests.len() == 1 {
                    manifests.remove(0)
                } else {
                    serde_json::Value::Array(manifests)
                };
                let text = format!(
                    "{}\n",
                    serde_json::to_string_pretty(&doc).unwrap_or_default()
                );
                write_output(&mut out, &m, true, text.as_bytes())?;
            }
        }
        Command::Pubkey { key } => {
            let key = custody::read_signing_key(&key)?;
            writeln!(out, "{}", hex::encode(key.verifying_key().as_bytes()))?;
        }
        Command::Vkey { key, name } => {
            let key = custody::read_signing_key(&key)?;
            let vkey = custody::VerifierKey::new(&name, &key).map_err(Error::Usage)?;
            writeln!(out, "{vkey}")?;
        }
        Command::Prove {
            what:
                Prove::Inclusion {
                    source,
                    seq,
                    checkpoint,
                    key,
                    origin,
                    out: file,
                    force,
                },
        } => {
            let proof = match (checkpoint, key) {
                (Some(cp), _) => {
                    let note = read_text(&cp)?;
                    custody::prove_inclusion(&source, seq, custody::ProofCheckpoint::Note(&note))?
                }
                (None, Some(key)) => {
                    let key = custody::read_signing_key(&key)?;
                    custody::prove_inclusion(&source, seq, custody::ProofCheckpoint::Sign(&key, origin.as_deref()))?
                }
                (None, None) => {
                    return Err(Error::Usage(
                        "give the checkpoint to prove against (--checkpoint FILE) or a key to sign one (--key KEY)".into(),
                    )
                    .into())
                }
            };
            write_output(&mut out, &file, force, proof.encode().as_bytes())?;
            if file == Path::new("-") {
                out.flush()?;
                return Ok(());
            }
            writeln!(
                out,
                "wrote the inclusion proof of entry {seq} ({} hashes) to {}",
                proof.hashes.len(),
                safe(&file.display().to_string())
            )?;
        }
        Command::Prove {
            what: Prove::Consistency { source, from, to },
        } => {
            let old = read_text(&from)?;
            let new = to.map(|t| read_text(&t)).transpose()?;
            let proof = custody::prove_consistency(&source, &old, new.as_deref())?;
            write!(out, "{proof}")?;
        }
        Command::VerifyProof { proof, entry, vkey } => {
            let text = read_text(&proof)?;
            let bytes = std::fs::read(&entry).map_err(|e| Error::Io {
                path: entry.clone(),
                source: e,
            })?;
            let vkey = read_vkey(&vkey)?;
            match custody::verify_proof(&text, &bytes, &vkey) {
                Ok(p) => {
                    writeln!(
                        out,
                        "entry {} ({}) is in the log `{}` at tree size {}, checkpoint signed by {}",
                        p.entry.seq(),
                        p.entry.event().type_name(),
                        safe(&p.checkpoint.origin),
                        p.checkpoint.size,
                        safe(vkey.name())
                    )?;
                    writeln!(
                        out,
                        "its signature by {} verifies; whether that key held the role and authority \
                         the event needed is not something a proof can show: the checkpoint's signer \
                         vouches for it, and `custody verify` of the ledger checks it",
                        hex::encode(p.entry.signer())
                    )?;
                }
                Err(m) => {
                    eprintln!("custody: the proof does not hold: {}", safe(&m));
                    return Err(Failure::Reported);
                }
            }
        }
        Command::Db(cli::Db::Migrate { url }) => {
            let loc = custody::Location::parse(&url);
            let version = custody::migrate(&loc)?;
            writeln!(
                out,
                "{}: custody schema version {version}",
                safe(&loc.to_string())
            )?;
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "custody", &mut out);
        }
        Command::Man { command } => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let page = match command {
                None => cmd,
                Some(name) => {
                    let Some(sub) = cmd.find_subcommand(&name) else {
                        return Err(Error::Usage(format!(
                            "no command `{name}`; `custody --help` lists them"
                        ))
                        .into());
                    };
                    // Named as man(1) names subcommand pages: custody-verify.
                    sub.clone()
                        .version(env!("CARGO_PKG_VERSION"))
                        .name(Box::leak(format!("custody-{name}").into_boxed_str()) as &str)
                }
            };
            clap_mangen::Man::new(page).render(&mut out)?;
        }
        Command::Demo { dir } => demo::run(&mut out, dir)?,
        Command::Bench {
            child: Some(args), ..
        } => bench::child(&mut out, &args)?,
        Command::Bench {
            shapes: true, dir, ..
        } => bench::shapes(&mut out, dir)?,
        Command::Bench {
            postgres: Some(url),
            dir,
            ..
        } => bench_pg::run(&mut out, &url, dir)?,
        Command::Bench { sizes, dir, .. } => bench::run(&mut out, &sizes, dir)?,
        Command::Licenses { id, json } => licenses::run(&mut out, id.as_deref(), json)?,
    }
    out.flush()?;
    Ok(())
}

/// A path's digest and manifest as JSON.
fn digest_json(p: &Path, d: &custody::PathDigest) -> serde_json::Value {
    serde_json::json!({
        "path": p.display().to_string(),
        "directory": d.directory,
        "digest": d.field(),
        "oms_root": d.directory.then(|| hex::encode(d.root)),
        "files": d.files.iter().map(|f| serde_json::json!({
            "path": f.path,
            "size": f.size,
            "sha256": hex::encode(f.sha256),
        })).collect::<Vec<_>>(),
    })
}

/// As model-signing describes a directory it hashed with its "files"
/// serialization: the resources and the root its in-toto subject names.
fn digest_oms(p: &Path, d: &custody::PathDigest) -> serde_json::Value {
    let name = std::fs::canonicalize(p)
        .ok()
        .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    serde_json::json!({
        "subject": {"name": name, "digest": {"sha256": hex::encode(d.root)}},
        "serialization": {"method": "files", "hash_type": "sha256"},
        "resources": d.files.iter().map(|f| serde_json::json!({
            "name": f.path,
            "algorithm": "sha256",
            "digest": hex::encode(f.sha256),
        })).collect::<Vec<_>>(),
    })
}
