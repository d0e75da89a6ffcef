//! The browser suite: `crates/web`'s wasm-bindgen tests in headless Chromium
//! against a test receiver started here on a free loopback port.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::shell::{cmd, exec, have, target_dir};

/// A running `ff-test-receiver`, stopped when dropped.
struct Receiver {
    child: Child,
    url: String,
}

impl Receiver {
    fn start() -> Result<Receiver> {
        exec(&mut cmd(
            "cargo",
            &["build", "-q", "-p", "ff-test-receiver"],
        ))?;
        let binary = target_dir().join("debug/ff-test-receiver");
        let mut child = Command::new(&binary)
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("could not start {}", binary.display()))?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout).read_line(&mut line)?;
        }
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("test receiver did not say where it listens (got {line:?})");
        };
        Ok(Receiver {
            url: url.to_owned(),
            child,
        })
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn run() -> Result<()> {
    let receiver = Receiver::start()?;
    println!("test receiver at {}", receiver.url);
    let mut test = cmd(
        "wasm-pack",
        &[
            "test",
            "--mode",
            "no-install",
            "--headless",
            "--chrome",
            "crates/web",
        ],
    );
    test.env("FF_TEST_RECEIVER_URL", &receiver.url)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
    if have("/usr/bin/chromedriver") {
        test.env("CHROMEDRIVER", "/usr/bin/chromedriver");
    }
    exec(&mut test)
}
