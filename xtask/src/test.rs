//! `cargo xtask test`: every check and test suite, one exit code.

use anyhow::{Result, bail};

use crate::shell::{cmd, exec, step};
use crate::{browser, build, demo, postgres, setup};

/// `cargo xtask test` runs everything; `cargo xtask test browser` or
/// `cargo xtask test e2e` runs one suite alone, for quicker turns while
/// working on the SDK (setup is assumed done).
pub fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        None => {}
        Some("browser") => return browser::run(),
        Some("e2e") => return end_to_end(),
        Some(other) => bail!("unknown suite {other:?}: expected browser or e2e"),
    }
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

    // Their libraries only: the tests' proptest cannot build for wasm32.
    step("clippy for wire, browser and core (wasm32)");
    exec(&mut cmd(
        "cargo",
        &[
            "clippy",
            "-p",
            "ff-telemetry-wire",
            "-p",
            "ff-telemetry-browser",
            "-p",
            "ff-telemetry-core",
            "--target",
            "wasm32-unknown-unknown",
            "--no-default-features",
            "--",
            "-D",
            "warnings",
        ],
    ))?;

    step("native tests");
    let pg = postgres::start();
    let mut native = cmd("cargo", &["test", "--workspace"]);
    match &pg {
        Some(pg) => {
            native.env(postgres::URL_VAR, pg.url());
        }
        None if std::env::var_os(postgres::SKIP_VAR).is_some() => {}
        None => bail!(
            "the Postgres suites cannot run without a PostgreSQL server (see above): \
             `apt-get install postgresql`, or {}=1 to skip them",
            postgres::SKIP_VAR
        ),
    }
    exec(&mut native)?;
    drop(pg);

    crate::fuzz::short_pass()?;

    step("browser tests (headless Chromium)");
    browser::run()?;

    // One build of the npm package serves both: the build-time Sentry check
    // needs a build with a token, and the end-to-end suite runs what it built.
    build_time_sentry()?;
    run_end_to_end()?;

    println!("\nall checks passed");
    Ok(())
}

/// The small React app `tests/e2e/react-router.test.mjs` drives, built on the
/// npm package in `npm/pkg` (setup installs its node_modules).
const REACT_APP: &str = "tests/react-app";

/// Playwright driving Chromium against the real demo stack: the release build of
/// the SDK in the demo SPA, the platform and the collector. Built as
/// `cargo xtask test` builds it, with a stand-in Sentry token: the suite
/// checks crash reports against the debug file such a build makes.
fn end_to_end() -> Result<()> {
    build_time_sentry()?;
    run_end_to_end()
}

/// [`end_to_end`] on the npm package and SPA already built.
fn run_end_to_end() -> Result<()> {
    let bin = demo::build_cli()?;
    step("React test app (vite build, React Router 6 and 7)");
    exec(cmd("npm", &["run", "build"]).current_dir(crate::shell::project_root().join(REACT_APP)))?;
    step("end-to-end tests (Playwright, Chromium, the demo stack)");
    let mut e2e = cmd("npm", &["test"]);
    e2e.current_dir(crate::shell::project_root().join("tests/e2e"))
        .env("FF_TELEMETRY_BIN", bin);
    exec(&mut e2e)
}

/// A build with a Sentry token keeps hidden source maps and a wasm debug file
/// with the shipped module's code at the same offsets and the same debug id
/// (as `sentry-cli` reads it), and the token's value appears in none of the
/// files it produces. (No Sentry can be reached from here, so the upload
/// itself is skipped.) The package and SPA it builds are what the end-to-end
/// suite then runs, its crash-report test against this debug file.
fn build_time_sentry() -> Result<()> {
    step("build-time Sentry: debug files made, token in no built file");
    let canary = format!(
        "sntrys_canary_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos()
    );
    exec(
        cmd("cargo", &["xtask", "build"])
            .env("SENTRY_AUTH_TOKEN", &canary)
            .env("SENTRY_ORG", "ci")
            .env("SENTRY_PROJECT", "ci")
            .env("FF_TELEMETRY_SKIP_UPLOAD", "1"),
    )?;
    let root = crate::shell::project_root();
    let built = [
        root.join(build::SPA_DIST),
        root.join(build::PKG_DIR),
        build::wasm_debug_file(),
    ];
    let files: Vec<_> = built
        .iter()
        .map(|p| crate::sentry_upload::files_under(p))
        .collect::<Result<Vec<_>>>()?
        .concat();
    let mut maps = 0;
    for file in &files {
        let bytes = std::fs::read(file)?;
        if bytes.windows(canary.len()).any(|w| w == canary.as_bytes()) {
            bail!("the Sentry token leaked into {}", file.display());
        }
        let name = file.to_string_lossy();
        if name.ends_with(".map") {
            maps += 1;
        }
        if name.ends_with(".js") && bytes.windows(17).any(|w| w == b"sourceMappingURL=") {
            bail!("{name} points browsers at its source map: maps must be hidden");
        }
    }
    let debug_file = std::fs::read(build::wasm_debug_file())?;
    if maps == 0 || !debug_file.windows(11).any(|w| w == b".debug_line") {
        bail!("expected hidden source maps ({maps} found) and DWARF in the wasm debug file");
    }
    let shipped = root.join(build::PKG_DIR).join(build::WASM_FILE);
    // The browser reports offsets into the shipped module; Sentry reads them
    // in the debug file: the same code must sit at the same offsets in both.
    let shipped_module = std::fs::read(&shipped)?;
    let shipped_code = crate::wasm_sections::code_section(&shipped_module)?;
    let debug_code = crate::wasm_sections::code_section(&debug_file)?;
    if shipped_code != debug_code || shipped_module[shipped_code.clone()] != debug_file[debug_code]
    {
        bail!("the shipped module's code differs from its debug file's, or sits elsewhere");
    }
    let shipped_id = crate::sentry_upload::debug_id(&shipped)?;
    let debug_id = crate::sentry_upload::debug_id(&build::wasm_debug_file())?;
    if shipped_id != debug_id || shipped_id.bytes().all(|b| b == b'0' || b == b'-') {
        bail!(
            "sentry-cli reads debug id {shipped_id} in the shipped module and {debug_id} in \
             the debug file: Sentry could not match them"
        );
    }
    println!(
        "ok   {maps} hidden source maps, a wasm debug file with the shipped module's \
         debug id {debug_id}, no token in {} files",
        files.len()
    );
    Ok(())
}
