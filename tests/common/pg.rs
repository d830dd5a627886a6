//! A throwaway PostgreSQL cluster for the tests: Debian's server binaries,
//! `initdb` into a temporary directory, `pg_ctl` on a free loopback port.
//! One cluster per test binary, started on first use; a watchdog process
//! stops it and removes its directory as soon as the test binary exits,
//! however it exits (a failed test, a panic, a kill).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub struct Cluster {
    pub port: u16,
    pub dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

/// The server binaries: `$CUSTODY_PG_BINDIR`, else the newest
/// /usr/lib/postgresql/*/bin, else `initdb` on PATH.
fn bindir() -> PathBuf {
    if let Some(d) = std::env::var_os("CUSTODY_PG_BINDIR") {
        return PathBuf::from(d);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    found.sort();
    if let Some((_, b)) = found.pop() {
        return b;
    }
    if let Ok(o) = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
    {
        let p = String::from_utf8_lossy(&o.stdout).trim().to_string();
        if !p.is_empty() {
            return PathBuf::from(p).parent().unwrap().to_path_buf();
        }
    }
    panic!(
        "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin \
         or on PATH: install them (Debian: `apt-get install postgresql`) or set \
         CUSTODY_PG_BINDIR; these tests need a real server"
    );
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Cluster {
    /// The test binary's cluster, started on first use.
    pub fn get() -> &'static Cluster {
        CLUSTER.get_or_init(Cluster::start)
    }

    /// A cluster of one's own (for a test that restarts its server),
    /// stopped when dropped.
    pub fn own() -> Owned {
        Owned(Cluster::start())
    }

    fn start() -> Cluster {
        let bin = bindir();
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("custody-pg-")
            .tempdir()
            .unwrap()
            .keep();
        if as_postgres {
            // initdb refuses to run as root: the server runs as the
            // `postgres` user the package creates, in a directory it owns.
            let out = Command::new("id")
                .args(["-u", "postgres"])
                .output()
                .unwrap();
            let uid: u32 = String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .expect("running as root, so the tests need the `postgres` system user");
            let out = Command::new("id")
                .args(["-g", "postgres"])
                .output()
                .unwrap();
            let gid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
        }
        let c = Cluster {
            port: free_port(),
            dir,
            bin,
            as_postgres,
        };
        c.watchdog();
        let data = c.dir.join("data");
        let r = c.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "custody",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        assert!(
            r.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        c.pg_ctl("start");
        c
    }

    /// Runs a server binary (as `postgres` when we are root).
    fn run(&self, prog: &str, args: &[&str]) -> std::process::Output {
        let path = self.bin.join(prog);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        cmd.args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn pg_ctl(&self, what: &str) {
        let data = self.dir.join("data");
        let log = self.dir.join("log");
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let mut args = vec![
            "-D",
            data.to_str().unwrap(),
            "-l",
            log.to_str().unwrap(),
            "-w",
            "-t",
            "60",
            "-o",
            &opts,
        ];
        if what == "restart" {
            args.extend(["-m", "immediate"]);
        }
        args.push(what);
        let r = self.run("pg_ctl", &args);
        assert!(
            r.status.success(),
            "pg_ctl {what} failed: {}{}\n{}",
            String::from_utf8_lossy(&r.stdout),
            String::from_utf8_lossy(&r.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Stops the server at once (as a crash would) and starts it again.
    pub fn restart_immediate(&self) {
        self.pg_ctl("restart");
    }

    /// Stops the cluster and removes its directory when this process ends.
    fn watchdog(&self) {
        let data = self.dir.join("data");
        let pg_ctl = self.bin.join("pg_ctl");
        let stop = if self.as_postgres {
            format!(
                "runuser -u postgres -- {} -D {} stop -m immediate",
                pg_ctl.display(),
                data.display()
            )
        } else {
            format!(
                "{} -D {} stop -m immediate",
                pg_ctl.display(),
                data.display()
            )
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; \
             if [ -f {data}/postmaster.pid ]; then {stop} >/dev/null 2>&1; fi; rm -rf {dir}",
            pid = std::process::id(),
            data = data.display(),
            dir = self.dir.display(),
        );
        // Left running on purpose: it outlives this process to clean up.
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the cluster's watchdog");
    }

    /// The URL of ledger `name` in the cluster's database.
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgres://custody@127.0.0.1:{}/postgres?ledger={name}",
            self.port
        )
    }

    /// A direct client, for looking at (and tampering with) the tables.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(
            &format!(
                "host=127.0.0.1 port={} user=custody dbname=postgres",
                self.port
            ),
            postgres::NoTls,
        )
        .unwrap()
    }

    /// Every row custody keeps for ledger `name`, as text, to compare the
    /// tables before and after.
    pub fn rows(&self, name: &str) -> Vec<String> {
        let mut c = self.client();
        let mut out = Vec::new();
        for (table, order) in [
            ("custody_ledgers", "name"),
            ("custody_entries", "seq"),
            ("custody_nodes", "level, idx"),
            ("custody_records", "signer"),
        ] {
            let sql = format!(
                "SELECT t::text FROM {table} t WHERE t.ledger IN \
                 (SELECT ledger FROM custody_ledgers WHERE name = $1) ORDER BY {order}",
            );
            for r in c.query(&sql, &[&name]).unwrap() {
                out.push(format!("{table}: {}", r.get::<_, String>(0)));
            }
        }
        out
    }
}

/// A cluster stopped (at once) and removed when dropped, as well as by its
/// watchdog.
pub struct Owned(Cluster);

impl std::ops::Deref for Owned {
    type Target = Cluster;
    fn deref(&self) -> &Cluster {
        &self.0
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        let data = self.0.dir.join("data");
        let _ = self.0.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "stop", "-m", "immediate"],
        );
        let _ = std::fs::remove_dir_all(&self.0.dir);
    }
}
