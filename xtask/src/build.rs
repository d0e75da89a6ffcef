//! `cargo xtask build`: the browser SDK's npm package in `npm/pkg`, optimised
//! for size, with its gzipped size against the budget.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::setup;
use crate::shell::{cmd, exec, project_root, step};

/// Where the wasm-bindgen output goes (gitignored; the npm package imports it).
pub const PKG_DIR: &str = "npm/pkg";
/// Gzipped bytes the PostHog part of the SDK may take, `.wasm` and JS together.
const BUDGET_GZIP_BYTES: usize = 25 * 1024;
/// wasm-opt must accept what rustc and wasm-bindgen emit.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

pub fn run() -> Result<()> {
    setup::run()?;
    let out_dir = project_root().join(PKG_DIR);
    let out_dir_arg = out_dir.to_string_lossy().into_owned();

    step("wasm package (wasm-pack, profile wasm-release)");
    // `--mode no-install`: the wasm-bindgen that setup installed, never a download.
    // `--no-opt`: wasm-pack would fetch its own binaryen; the Debian wasm-opt runs below.
    exec(&mut cmd(
        "wasm-pack",
        &[
            "build",
            "--mode",
            "no-install",
            "crates/web",
            "--target",
            "web",
            "--out-dir",
            &out_dir_arg,
            "--profile",
            "wasm-release",
            "--no-opt",
        ],
    ))?;

    step("wasm-opt -Oz");
    let wasm = out_dir.join("ff_telemetry_web_bg.wasm");
    let wasm_arg = wasm.to_string_lossy().into_owned();
    let mut args = vec!["-Oz", "--strip-debug", "--strip-producers"];
    args.extend_from_slice(WASM_FEATURES);
    args.extend(["-o", &wasm_arg, &wasm_arg]);
    exec(&mut cmd("wasm-opt", &args))?;

    step("size");
    report_sizes(&out_dir)
}

fn report_sizes(out_dir: &Path) -> Result<()> {
    let wasm = gzipped_len(&[out_dir.join("ff_telemetry_web_bg.wasm")])?;
    let mut js_files = vec![out_dir.join("ff_telemetry_web.js")];
    let snippets = out_dir.join("snippets");
    if snippets.is_dir() {
        for crate_dir in std::fs::read_dir(&snippets)? {
            for file in std::fs::read_dir(crate_dir?.path())? {
                js_files.push(file?.path());
            }
        }
    }
    let js = gzipped_len(&js_files)?;
    let total = wasm + js;
    println!("ff_telemetry_web_bg.wasm      {:>7} bytes gzipped", wasm);
    println!("JS glue (+ inline snippets)   {:>7} bytes gzipped", js);
    println!(
        "total                         {:>7} bytes gzipped (budget {} bytes: {})",
        total,
        BUDGET_GZIP_BYTES,
        if total <= BUDGET_GZIP_BYTES {
            "within"
        } else {
            "OVER"
        }
    );
    Ok(())
}

/// Size of the files concatenated and gzipped at the best level.
fn gzipped_len(files: &[std::path::PathBuf]) -> Result<usize> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for file in files {
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        enc.write_all(&bytes)?;
    }
    Ok(enc.finish()?.len())
}
