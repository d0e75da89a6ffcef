//! A throwaway PostgreSQL cluster: `initdb` in a temporary folder, a server on a free
//! loopback port with trust authentication, stopped and removed on drop. `cargo
//! xtask test` and `cargo xtask bench` start one for the suites that run on
//! Postgres; a fault test starts its own to stop and start it under load.
//!
//! Needs the Debian server binaries (`apt-get install postgresql`, found under
//! `/usr/lib/postgresql/<version>/bin`). `initdb` refuses to run as root, so as root
//! the cluster belongs to the `postgres` user and is driven through `runuser`.
//!
//! ```no_run
//! let pg = ff_throwaway_postgres::Throwaway::start().unwrap();
//! let url = pg.url(); // postgres://postgres@127.0.0.1:<port>/postgres
//! pg.stop().unwrap();
//! pg.start_again().unwrap();
//! ```

#![warn(missing_docs)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Why the cluster could not be started or controlled.
#[derive(Debug, thiserror::Error)]
pub enum ThrowawayError {
    /// No server binaries.
    #[error(
        "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (as root: apt-get install postgresql)"
    )]
    NotInstalled,
    /// A command failed; its output says why.
    #[error("{command} failed: {output}")]
    Command {
        /// What was run.
        command: String,
        /// Its stderr and stdout, or why it could not start.
        output: String,
    },
    /// The folder could not be made or a free port found.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A running cluster in a temporary folder, stopped and removed on drop.
#[derive(Debug)]
pub struct Throwaway {
    pg_ctl: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

/// Clusters started by this process, so each gets a folder of its own.
static N_STARTED: AtomicUsize = AtomicUsize::new(0);

impl Throwaway {
    /// Creates a cluster and starts it on a free loopback port.
    pub fn start() -> Result<Self, ThrowawayError> {
        let bin = server_bin_dir().ok_or(ThrowawayError::NotInstalled)?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = std::env::temp_dir().join(format!(
            "ff-telemetry-pg-{}-{}",
            std::process::id(),
            N_STARTED.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let as_postgres = is_root();
        let pg = Throwaway {
            pg_ctl: bin.join("pg_ctl"),
            dir,
            port,
            as_postgres,
        };
        if as_postgres {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&pg.dir))?;
        }
        pg.command(&bin.join("initdb"), |c| {
            c.args([
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "-D",
            ])
            .arg(pg.data());
        })?;
        pg.start_again()?;
        Ok(pg)
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server at once (`pg_ctl stop -m fast`): sessions are cut and their
    /// open transactions rolled back. Returns once it is down.
    pub fn stop(&self) -> Result<(), ThrowawayError> {
        self.command(&self.pg_ctl, |c| {
            c.arg("-D")
                .arg(self.data())
                .args(["-m", "fast", "-w", "stop"]);
        })
    }

    /// Starts the (stopped) server again on the same port; returns once it accepts
    /// connections.
    pub fn start_again(&self) -> Result<(), ThrowawayError> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        self.command(&self.pg_ctl, |c| {
            c.arg("-D")
                .arg(self.data())
                .args(["-o", &options, "-l"])
                .arg(self.dir.join("server.log"))
                .args(["-w", "start"]);
        })
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(
        &self,
        program: &Path,
        configure: impl FnOnce(&mut Command),
    ) -> Result<(), ThrowawayError> {
        let mut c = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        configure(&mut c);
        c.current_dir(&self.dir);
        run(&mut c)
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let _ = self.command(&self.pg_ctl, |c| {
            c.arg("-D")
                .arg(self.data())
                .args(["-m", "immediate", "stop"]);
        });
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `c` to completion; a failure carries its output.
fn run(c: &mut Command) -> Result<(), ThrowawayError> {
    let command = std::iter::once(c.get_program())
        .chain(c.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    match c.output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(ThrowawayError::Command {
            command,
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            )
            .trim()
            .to_owned(),
        }),
        Err(e) => Err(ThrowawayError::Command {
            command,
            output: e.to_string(),
        }),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
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
