//! `cargo xtask setup`: installs, idempotently, what a fresh Debian machine lacks.
//!
//! wasm-pack cannot download wasm-bindgen or wasm-opt here, so both are installed
//! up front: the wasm-bindgen CLI at exactly the version `Cargo.toml` pins, and
//! wasm-opt from Debian's binaryen.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::shell::{cmd, exec, have, is_root, project_root, read, step};

/// Debian packages the browser and database tests need, with the command each provides.
const APT_PACKAGES: &[(&str, &str)] = &[
    ("chromium", "/usr/bin/chromium"),
    ("chromium-driver", "/usr/bin/chromedriver"),
    ("binaryen", "wasm-opt"),
    ("postgresql", "/usr/lib/postgresql"),
];

pub fn run() -> Result<()> {
    step("setup");
    let mut missing_by_hand = Vec::new();
    rustup_add("target", "wasm32-unknown-unknown")?;
    wasm_bindgen_cli()?;
    wasm_pack()?;
    apt_packages(&mut missing_by_hand)?;
    npm_dependencies()?;
    if !missing_by_hand.is_empty() {
        bail!(
            "setup could not install these (not root); install them by hand:\n  {}",
            missing_by_hand.join("\n  ")
        );
    }
    Ok(())
}

/// The wasm-bindgen version pinned in the workspace `Cargo.toml` (`=X.Y.Z`).
pub fn pinned_wasm_bindgen() -> Result<String> {
    let manifest = std::fs::read_to_string(project_root().join("Cargo.toml"))?;
    let doc: toml::Table = manifest.parse()?;
    let pin = doc
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(|d| d.get("wasm-bindgen"))
        .and_then(|v| {
            v.as_str()
                .or_else(|| v.get("version").and_then(|v| v.as_str()))
        })
        .context("workspace.dependencies.wasm-bindgen is not set in Cargo.toml")?;
    match pin.strip_prefix('=') {
        Some(v) => Ok(v.to_owned()),
        None => bail!("wasm-bindgen must be pinned with `=X.Y.Z` (found {pin:?})"),
    }
}

/// `rustup <kind> add <name>` (`kind`: `target` or `component`) unless it is
/// installed already.
fn rustup_add(kind: &str, name: &str) -> Result<()> {
    let installed =
        read(Command::new("rustup").args([kind, "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == name) {
        println!("ok   {name} {kind}");
        return Ok(());
    }
    exec(&mut cmd("rustup", &[kind, "add", name]))
}

fn wasm_bindgen_cli() -> Result<()> {
    let pinned = pinned_wasm_bindgen()?;
    let current = read(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if current == format!("wasm-bindgen {pinned}") {
        println!("ok   wasm-bindgen-cli {pinned}");
        return Ok(());
    }
    // No --locked: one of the CLI's locked dependencies is not on the registry mirror.
    exec(&mut cmd(
        "cargo",
        &[
            "install",
            "wasm-bindgen-cli",
            "--version",
            &pinned,
            "--force",
        ],
    ))
}

fn wasm_pack() -> Result<()> {
    if let Some(v) = read(Command::new("wasm-pack").arg("--version")) {
        println!("ok   {v}");
        return Ok(());
    }
    // `npm install wasm-pack` would try to download a binary, which fails here.
    exec(&mut cmd("cargo", &["install", "wasm-pack"]))
}

fn apt_packages(missing_by_hand: &mut Vec<String>) -> Result<()> {
    let missing: Vec<&str> = APT_PACKAGES
        .iter()
        .filter(|(_, provides)| !have(provides))
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        println!("ok   chromium, chromedriver, wasm-opt, postgresql");
        return Ok(());
    }
    if !is_root() {
        missing_by_hand.push(format!(
            "sudo apt-get update && sudo apt-get install -y {}",
            missing.join(" ")
        ));
        return Ok(());
    }
    exec(
        Command::new("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    exec(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Folders whose npm dependencies the tests need.
const NPM_FOLDERS: &[&str] = &[
    "www",
    "tests/e2e",
    "tests/react-app",
    "crates/collector/tests/browser",
];

fn npm_dependencies() -> Result<()> {
    NPM_FOLDERS.iter().try_for_each(|dir| npm_install(dir))
}

/// `npm ci` (or `npm install` without a lock file) in `dir` when it has a
/// `package.json` and its `node_modules` is missing or older than the lock file.
pub fn npm_install(dir: &str) -> Result<()> {
    let path = project_root().join(dir);
    if !path.join("package.json").exists() {
        return Ok(());
    }
    if !have("npm") {
        bail!("{dir}/package.json needs npm: apt-get install -y nodejs npm");
    }
    let lock = path.join("package-lock.json");
    let fresh = match (
        mtime(&lock),
        mtime(&path.join("node_modules/.package-lock.json")),
    ) {
        (Some(l), Some(m)) => m >= l,
        (None, Some(_)) => true,
        _ => false,
    };
    if fresh {
        println!("ok   {dir}/node_modules");
        return Ok(());
    }
    let verb = if lock.exists() { "ci" } else { "install" };
    exec(cmd("npm", &[verb, "--no-audit", "--no-fund"]).current_dir(&path))
}

fn mtime(path: &std::path::Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}
