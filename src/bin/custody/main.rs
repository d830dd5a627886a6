//! The `custody` command: argument parsing, output and exit statuses over
//! the `custody` library.

mod bench;
mod cli;
mod demo;
mod licenses;
mod openness;
mod output;

use clap::Parser;
use cli::{Cli, Command, Prove};
use custody::Error;
use output::safe;
use std::io::{self, BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

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
    match run(cli) {
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
            eprintln!(
                "{} entr{} verified before it; do not rely on anything after entry {}",
                inv.entries,
                if inv.entries == 1 { "y" } else { "ies" },
                inv.entries.saturating_sub(1)
            );
        }
        Error::Locked(_) => {
            eprintln!("custody: {}", safe(&e.to_string()));
            eprintln!("wait for it to finish, then run this command again");
        }
        _ => eprintln!("custody: {}", safe(&e.to_string())),
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
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
                safe(&ledger.display().to_string())
            )?;
            writeln!(out, "ledger id: {}", hex::encode(id))?;
            writeln!(
                out,
                "owner:     {}",
                hex::encode(key.verifying_key().as_bytes())
            )?;
        }
        Command::Append { ledger, key, file } => {
            let key = custody::read_signing_key(&key)?;
            let report = match file.as_deref() {
                None => custody::append(&ledger, &key, io::stdin().lock())?,
                Some(p) if p == Path::new("-") => {
                    custody::append(&ledger, &key, io::stdin().lock())?
                }
                Some(p) => {
                    let f = std::fs::File::open(p).map_err(|e| Error::Io {
                        path: p.to_path_buf(),
                        source: e,
                    })?;
                    custody::append(&ledger, &key, BufReader::new(f))?
                }
            };
            writeln!(
                out,
                "appended {} entr{}; the ledger has {} entries; head {}",
                report.appended,
                if report.appended == 1 { "y" } else { "ies" },
                report.entries,
                hex::encode(report.head)
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
            ..
        } => {
            custody::check_output(&file)?;
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
            custody::write_atomic(&file, &bytes)?;
            writeln!(
                out,
                "wrote entry {seq} to {}",
                safe(&file.display().to_string())
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
            let r = custody::export_partial(&ledger, &file, &selectors, &key)?;
            writeln!(
                out,
                "exported a partial ledger to {}: {} of {} entries disclosed, {} withheld as hashes",
                safe(&file.display().to_string()),
                r.disclosed,
                r.entries,
                r.entries - r.disclosed
            )?;
        }
        Command::Export {
            ledger, out: file, ..
        } => {
            let v = custody::export(&ledger, &file)?;
            writeln!(
                out,
                "exported {} verified entries of \"{}\" to {}; head {}",
                v.entries(),
                safe(v.name()),
                safe(&file.display().to_string()),
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
                safe(&ledger.display().to_string()),
                hex::encode(v.head())
            )?;
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
            custody::write_atomic(&file, proof.encode().as_bytes())?;
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
        Command::Demo { dir } => demo::run(&mut out, dir)?,
        Command::Bench {
            shapes: true, dir, ..
        } => bench::shapes(&mut out, dir)?,
        Command::Bench { sizes, dir, .. } => bench::run(&mut out, &sizes, dir)?,
        Command::Licenses { id, json } => licenses::run(&mut out, id.as_deref(), json)?,
    }
    out.flush()?;
    Ok(())
}
