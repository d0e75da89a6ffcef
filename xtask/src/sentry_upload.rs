//! Build-time Sentry: with `SENTRY_AUTH_TOKEN` in `.env` (or the environment), the
//! build keeps debug files for release `flowfuse@<version>` — the name the runtime
//! reports — and uploads them with `@sentry/cli`; without a token it says the upload
//! is skipped.
//!
//! The token only ever reaches `sentry-cli` through its environment: never a
//! command line (visible to `ps`) and never the bundler (Vite exposes only
//! `VITE_*` variables to the app). The build also checks that no built file
//! contains it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::shell::{cmd, exec, project_root, step};

/// The variables `.env.example` documents.
const TOKEN: &str = "SENTRY_AUTH_TOKEN";
const ORG: &str = "SENTRY_ORG";
const PROJECT: &str = "SENTRY_PROJECT";
const URL: &str = "SENTRY_URL";
/// Set to keep the debug files but not upload them (used by the test that proves
/// the token stays out of every built file, on a machine with no Sentry to reach).
const SKIP_UPLOAD: &str = "FF_TELEMETRY_SKIP_UPLOAD";

/// What `.env` and the environment say about the upload.
#[derive(Debug, Clone)]
pub struct UploadSettings {
    token: String,
    org: String,
    project: String,
    url: Option<String>,
    skip_upload: bool,
}

impl UploadSettings {
    /// Reads `.env` in the workspace root, the environment taking precedence.
    /// `None` when there is no token: the build then makes no debug files.
    pub fn load() -> Result<Option<Self>> {
        let file = read_dotenv(&project_root().join(".env"))?;
        let get = |key: &str| {
            std::env::var(key)
                .ok()
                .or_else(|| file.get(key).cloned())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let Some(token) = get(TOKEN) else {
            println!("{TOKEN} is not set (.env): Sentry debug-file upload skipped");
            return Ok(None);
        };
        let missing: Vec<&str> = [ORG, PROJECT]
            .into_iter()
            .filter(|key| get(key).is_none())
            .collect();
        if !missing.is_empty() {
            bail!(
                "{TOKEN} is set but {} not: set it in .env",
                missing.join(" and ")
            );
        }
        Ok(Some(UploadSettings {
            token,
            org: get(ORG).unwrap_or_default(),
            project: get(PROJECT).unwrap_or_default(),
            url: get(URL),
            skip_upload: get(SKIP_UPLOAD).is_some(),
        }))
    }

    /// Fails if the token's value appears in any file under `dirs`.
    pub fn check_no_leak(&self, dirs: &[PathBuf]) -> Result<()> {
        let needle = self.token.as_bytes();
        for dir in dirs {
            for file in files_under(dir)? {
                let bytes = std::fs::read(&file)?;
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    bail!(
                        "{TOKEN}'s value appears in {}: refusing to ship it",
                        file.display()
                    );
                }
            }
        }
        println!("ok   {TOKEN} appears in no built file");
        Ok(())
    }

    /// Uploads the SPA's source maps and the wasm debug file for `release`, then
    /// removes the maps from the served folder.
    pub fn upload(&self, release: &str, spa_dist: &Path, wasm_debug_file: &Path) -> Result<()> {
        if self.skip_upload {
            println!("{SKIP_UPLOAD} is set: debug files kept, not uploaded");
            return Ok(());
        }
        step(&format!("Sentry upload for release {release}"));
        let dist = spa_dist.to_string_lossy().into_owned();
        let wasm = wasm_debug_file.to_string_lossy().into_owned();
        self.sentry_cli(&["releases", "new", release])?;
        self.sentry_cli(&["sourcemaps", "inject", &dist])?;
        self.sentry_cli(&["sourcemaps", "upload", "--release", release, &dist])?;
        self.sentry_cli(&["debug-files", "upload", "--type", "wasm", &wasm])?;
        self.sentry_cli(&["releases", "finalize", release])?;
        remove_source_maps(spa_dist)
    }

    fn sentry_cli(&self, args: &[&str]) -> Result<()> {
        let mut c = cmd(&sentry_cli_bin(), args);
        c.env(TOKEN, &self.token)
            .env(ORG, &self.org)
            .env(PROJECT, &self.project);
        if let Some(url) = &self.url {
            c.env(URL, url);
        }
        exec(&mut c)
    }
}

/// The `Debug ID` that `sentry-cli debug-files check` reads in `file` (a
/// hyphenated UUID; all zeros when the file has none): the id Sentry files an
/// uploaded debug file under, and looks it up by.
pub fn debug_id(file: &Path) -> Result<String> {
    let path = file.to_string_lossy();
    let mut check = cmd(
        &sentry_cli_bin(),
        &["debug-files", "check", "--json", &path],
    );
    // Its exit status says whether the file is usable on its own: the shipped
    // module, without debug information, is not; its id still counts.
    let out = check
        .output()
        .context("could not run sentry-cli (`cargo xtask setup` installs it)")?;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "sentry-cli debug-files check {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    report["variants"][0]["debug_id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("sentry-cli found no debug id in {path}: {report}"))
}

fn sentry_cli_bin() -> String {
    project_root()
        .join("www/node_modules/.bin/sentry-cli")
        .to_string_lossy()
        .into_owned()
}

/// Source maps are for Sentry, not for visitors: they leave the served folder.
fn remove_source_maps(dir: &Path) -> Result<()> {
    for file in files_under(dir)? {
        if file.extension().is_some_and(|e| e == "map") {
            std::fs::remove_file(&file)?;
        }
    }
    Ok(())
}

/// `KEY=VALUE` lines; `#` comments, blank lines, `export ` and quotes allowed.
fn read_dotenv(path: &Path) -> Result<BTreeMap<String, String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("export ").unwrap_or(l).split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_owned(),
                v.trim().trim_matches(['"', '\'']).to_owned(),
            )
        })
        .collect())
}

/// Every file below `dir` (or `dir` itself when it is a file).
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    if dir.is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    Ok(out)
}
