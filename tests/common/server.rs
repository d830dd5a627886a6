//! A `custody serve` process for the tests, on a loopback port.

use super::{bin, ledger_arg, Fixture};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// A running server; killed when dropped.
pub struct Server {
    pub child: Child,
    /// The URL of the fixture's ledger on it.
    pub base: String,
    /// `host:port` it listens on.
    pub addr: String,
    log: Arc<Mutex<String>>,
    drain: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Serves the fixture's ledger `L` on a free port.
    pub fn start(f: &Fixture, extra: &[&str]) -> Server {
        Server::start_on(f, &ledger_arg(f.dir(), "L"), "127.0.0.1:0", extra)
    }

    /// Serves `ledger` on `listen`.
    pub fn start_on(f: &Fixture, ledger: &str, listen: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(bin())
            .args(["serve", ledger, "--listen", listen])
            .args(extra)
            .current_dir(f.dir())
            .env("CUSTODY_STATE_DIR", f.dir().join(".server-state"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The access log is read as it comes, so that a long test never
        // fills the pipe and stalls the server.
        let log = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = log.clone();
        let drain = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = match lines.next() {
            Some(Ok(l)) => l,
            _ => {
                let _ = child.wait();
                let _ = drain.join();
                panic!("the server did not start: {}", log.lock().unwrap());
            }
        };
        assert!(
            first.starts_with("listening on http://127.0.0.1:"),
            "{first}"
        );
        let addr = first.trim_start_matches("listening on http://").to_string();
        let base = lines.next().unwrap().unwrap().trim().to_string();
        Server {
            child,
            base,
            addr,
            log,
            drain: Some(drain),
        }
    }

    /// Stops it with SIGTERM: its exit code and what it logged.
    pub fn stop(mut self) -> (Option<i32>, String) {
        unsafe_free_sigterm(self.child.id());
        let status = self.child.wait().unwrap();
        if let Some(d) = self.drain.take() {
            let _ = d.join();
        }
        let log = self.log.lock().unwrap().clone();
        (status.code(), log)
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SIGTERM through kill(1): no unsafe code in the tests.
pub fn unsafe_free_sigterm(pid: u32) {
    let s = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(s.success());
}
