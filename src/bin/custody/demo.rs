//! `custody demo`: placeholder replaced below.
use crate::Failure;
use std::io::Write;
use std::path::PathBuf;
pub fn run(_out: &mut impl Write, _dir: Option<PathBuf>) -> Result<(), Failure> {
    Ok(())
}
