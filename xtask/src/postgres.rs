//! A throwaway PostgreSQL cluster for the test suites that run on Postgres too.
//!
//! Tests read its URL from `FF_TEST_POSTGRES_URL`; when the variable is unset they
//! print a skip line, so `cargo test` alone still works on a machine without it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::shell::{is_root, read};

/// The environment variable test suites read the server URL from.
pub const URL_VAR: &str = "FF_TEST_POSTGRES_URL";
/// Set (never by CI) to run the suites without their Postgres half.
pub const SKIP_VAR: &str = "FF_TELEMETRY_SKIP_POSTGRES";

/// A running cluster in a temporary folder, stopped and removed on drop.
pub struct Throwaway {
    pg_ctl: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Throwaway {
    /// Starts a cluster on a free loopback port, or says why not and returns `None`.
    pub fn start() -> Option<Self> {
        let Some(bin) = server_bin_dir() else {
            println!("no PostgreSQL server (apt-get install postgresql)");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .ok()?;
        let dir = std::env::temp_dir().join(format!("ff-telemetry-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).ok()?;
        // initdb refuses to run as root, so as root the cluster belongs to `postgres`.
        let as_postgres = is_root();
        if as_postgres {
            read(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(&dir),
            )?;
        }
        let pg = Throwaway {
            pg_ctl: bin.join("pg_ctl"),
            dir,
            port,
            as_postgres,
        };
        let data = pg.dir.join("data");
        let initdb = pg.command(&bin.join("initdb"), |c| {
            c.args([
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "-D",
            ])
            .arg(&data);
        });
        if !initdb {
            println!("PostgreSQL: initdb failed");
            return None;
        }
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            pg.dir.display()
        );
        let log = pg.dir.join("server.log");
        let started = pg.command(&pg.pg_ctl, |c| {
            c.arg("-D")
                .arg(&data)
                .args(["-o", &options, "-l"])
                .arg(&log)
                .args(["-w", "start"]);
        });
        if !started {
            println!(
                "PostgreSQL: the server did not start; see {}",
                log.display()
            );
            return None;
        }
        println!("ok   throwaway PostgreSQL on 127.0.0.1:{port}");
        Some(pg)
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn command(&self, program: &Path, configure: impl FnOnce(&mut Command)) -> bool {
        let mut c = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        configure(&mut c);
        c.current_dir(&self.dir);
        read(&mut c).is_some()
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        self.command(&self.pg_ctl.clone(), |c| {
            c.arg("-D").arg(&data).args(["-m", "immediate", "stop"]);
        });
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `/usr/lib/postgresql/<newest>/bin`, where Debian puts the server binaries.
fn server_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}
