//! A line of progress on standard error for long commands, shown only when
//! standard error is a terminal and only once a command has gone on for a
//! while; nothing at all in pipes, logs and tests.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static BAR: OnceLock<Option<Bar>> = OnceLock::new();

struct Bar {
    bar: ProgressBar,
    start: Instant,
}

/// Starts reporting the library's progress, if standard error is a terminal.
pub fn install() {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({per_sec}, {elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Bar {
            bar,
            start: Instant::now(),
        }
    });
    let _ = BAR.set(bar);
    custody::set_progress(report);
}

fn report(p: custody::Progress) {
    let Some(Some(b)) = BAR.get() else { return };
    if DONE.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    // Quick commands finish without a flicker.
    if b.start.elapsed() < Duration::from_millis(500) {
        return;
    }
    let (n, what) = match p {
        custody::Progress::Verified(n) => (n, "verified"),
        custody::Progress::Signed(n) => (n, "signed"),
    };
    b.bar.set_position(n);
    b.bar.set_message(format!("{n} entries {what}"));
    b.bar.tick();
}

/// Clears the line, before the command's own output.
pub fn finish() {
    if DONE.swap(true, std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    if let Some(Some(b)) = BAR.get() {
        b.bar.finish_and_clear();
    }
}

static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Standard output that clears the progress line before its first write,
/// so that progress and output never share a line.
pub struct ClearFirst<W> {
    pub inner: W,
}

impl<W: std::io::Write> std::io::Write for ClearFirst<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        finish();
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
