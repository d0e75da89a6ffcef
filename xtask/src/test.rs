//! `cargo xtask test`: every check and test suite, one exit code.

use anyhow::Result;

use crate::shell::{cmd, exec, step};
use crate::{browser, postgres, setup};

pub fn run(_args: &[String]) -> Result<()> {
    setup::run()?;

    step("format");
    exec(&mut cmd("cargo", &["fmt", "--all", "--", "--check"]))?;

    step("clippy");
    exec(&mut cmd(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    ))?;

    step("clippy for the browser (wasm32)");
    exec(&mut cmd(
        "cargo",
        &[
            "clippy",
            "-p",
            "ff-telemetry-web",
            "--target",
            "wasm32-unknown-unknown",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    ))?;

    step("core builds for wasm32");
    exec(&mut cmd(
        "cargo",
        &[
            "build",
            "-p",
            "ff-telemetry-core",
            "--target",
            "wasm32-unknown-unknown",
            "--no-default-features",
        ],
    ))?;

    step("native tests");
    let pg = postgres::Throwaway::start();
    let mut native = cmd("cargo", &["test", "--workspace"]);
    if let Some(pg) = &pg {
        native.env(postgres::URL_VAR, pg.url());
    }
    exec(&mut native)?;
    drop(pg);

    step("browser tests (headless Chromium)");
    browser::run()?;

    println!("\nall checks passed");
    Ok(())
}
