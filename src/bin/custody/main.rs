//! The `custody` command: argument parsing, output and exit statuses over
//! the `custody` library.

mod bench;
mod cli;
mod demo;
mod openness;
mod output;

use clap::Parser;
use cli::{Cli, Command};
use custody::Error;
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
            eprintln!("custody: {e}");
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

/// Prints an error with what to do next.
fn report(e: &Error) {
    match e {
        Error::Input(i) => {
            eprintln!("custody: {i}");
            eprintln!("nothing was appended; fix the line and run the whole batch again");
        }
        Error::Invalid(inv) => {
            eprintln!("custody: ledger invalid at {}", inv.error);
            eprintln!(
                "{} entr{} verified before it; do not rely on anything after entry {}",
                inv.entries,
                if inv.entries == 1 { "y" } else { "ies" },
                inv.entries.saturating_sub(1)
            );
        }
        Error::Locked(_) => {
            eprintln!("custody: {e}");
            eprintln!("wait for it to finish, then run this command again");
        }
        _ => eprintln!("custody: {e}"),
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
            writeln!(out, "created ledger \"{name}\" in {}", ledger.display())?;
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
        } => {
            let owner = owner.map(|o| custody::read_public_key(&o)).transpose()?;
            let opts = custody::VerifyOptions { owner };
            let result = custody::verify(&source, &opts, |_| Ok(()));
            return output::verify(&mut out, &source, owner.is_some(), result, json);
        }
        Command::Log { source, json } => {
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
        Command::Export { ledger, out: file } => {
            let v = custody::export(&ledger, &file)?;
            writeln!(
                out,
                "exported {} verified entries of \"{}\" to {}; head {}",
                v.entries(),
                v.name(),
                file.display(),
                hex::encode(v.head())
            )?;
        }
        Command::Import { file, ledger } => {
            let v = custody::import(&file, &ledger)?;
            writeln!(
                out,
                "imported {} verified entries of \"{}\" into {}; head {}",
                v.entries(),
                v.name(),
                ledger.display(),
                hex::encode(v.head())
            )?;
        }
        Command::Openness {
            sources,
            json,
            markdown,
        } => {
            let format = if json {
                openness::Format::Json
            } else if markdown {
                openness::Format::Markdown
            } else {
                openness::Format::Text
            };
            openness::run(&mut out, &sources, format)?;
        }
        Command::Demo { dir } => demo::run(&mut out, dir)?,
        Command::Bench { sizes, dir } => bench::run(&mut out, &sizes, dir)?,
    }
    out.flush()?;
    Ok(())
}
