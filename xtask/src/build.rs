//! `cargo xtask build`: the browser SDK's npm package in `npm/pkg`, optimised
//! for size, with its gzipped size against the budget; then the demo SPA in
//! `www/dist`; then, with a Sentry token in `.env`, the debug-file upload for the
//! release the runtime reports.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::import_names;
use crate::sentry_upload::UploadSettings;
use crate::setup;
use crate::shell::{cmd, exec, project_root, step};
use crate::wasm_sections;

/// Where the wasm-bindgen output goes (gitignored; the npm package imports it).
pub const PKG_DIR: &str = "npm/pkg";
/// wasm-bindgen's name for the glue (`<name>.js`) and module (`<name>_bg.wasm`).
const GLUE_NAME: &str = "ff_telemetry_web";
/// The shipped module in [`PKG_DIR`].
pub const WASM_FILE: &str = "ff_telemetry_web_bg.wasm";
/// Where the built demo SPA goes (gitignored; the platform serves it).
pub const SPA_DIST: &str = "www/dist";
/// Where the wasm debug file for Sentry goes when a token is set (under the
/// name the SDK's events give as the image's `debug_file`).
pub fn wasm_debug_file() -> PathBuf {
    project_root()
        .join("target/wasm-debug")
        .join(ff_telemetry_browser::sentry::WASM_DEBUG_FILE_NAME)
}
/// Where the PostHog part alone is built (Sentry left out), only to report its size.
const POSTHOG_PART_DIR: &str = "target/posthog-part-pkg";
/// Gzipped bytes (`.wasm` and JS together) a build may take.
#[derive(Debug, Clone, Copy)]
pub struct SizeBudget {
    /// What the SDK is asked to fit in (issue 17), printed with the verdict.
    pub target: usize,
    /// What the build fails over: today's size plus a little, a ratchet that only
    /// ever comes down, until it meets `target`.
    pub ceiling: usize,
}

/// The whole SDK (PostHog and Sentry): 92,783 B gz when the SDK moved onto
/// web-sys, js-sys, gloo-net and serde-wasm-bindgen; 91,414 B gz with its
/// import names shortened, after browser Sentry's debug_meta, route templates,
/// consent and the multi-tab queue came in (see the README's "What each part
/// of the browser SDK costs"). The ceiling leaves about 2 KB for features under
/// way.
pub const WHOLE_SDK_BUDGET: SizeBudget = SizeBudget {
    target: 64 * 1024,
    ceiling: 93_400,
};
/// The PostHog part alone (the crate without its `sentry` feature): 73,440 B
/// gz, then 71,377 B gz, at the same times.
const POSTHOG_PART_BUDGET: SizeBudget = SizeBudget {
    target: 48 * 1024,
    ceiling: 73_400,
};
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
    let upload = UploadSettings::load()?;
    let with_debug_files = upload.is_some();
    let out_dir = project_root().join(PKG_DIR);
    wasm_package(&out_dir, with_debug_files, &[])?;
    minify_glue(&out_dir)?;
    spa(with_debug_files)?;
    // The same build without the `sentry` feature: what a PostHog-only user
    // downloads, and the PostHog part's own budget.
    let posthog_part_dir = project_root().join(POSTHOG_PART_DIR);
    wasm_package(&posthog_part_dir, false, &["--no-default-features"])?;
    minify_glue(&posthog_part_dir)?;
    step("size");
    let whole = report_sizes("whole SDK", &out_dir, WHOLE_SDK_BUDGET)?;
    let posthog = report_sizes("PostHog part", &posthog_part_dir, POSTHOG_PART_BUDGET)?;
    if !(whole && posthog) {
        bail!("the SDK grew over its size ceiling (see above)");
    }
    if let Some(upload) = upload {
        let root = project_root();
        upload.check_no_leak(&[root.join(SPA_DIST), out_dir, wasm_debug_file()])?;
        let release = ff_telemetry_core::release_name(&workspace_version()?);
        upload.upload(&release, &root.join(SPA_DIST), &wasm_debug_file())?;
    }
    Ok(())
}

/// Builds the module and its glue into `out_dir`, with `cargo_args` (features)
/// passed on to Cargo.
fn wasm_package(out_dir: &Path, with_debug_file: bool, cargo_args: &[&str]) -> Result<()> {
    let out_dir_arg = out_dir.to_string_lossy().into_owned();
    step("wasm package (wasm-pack, profile wasm-release)");
    // `--mode no-install`: the wasm-bindgen that setup installed, never a download.
    // `--no-opt`: wasm-pack would fetch its own binaryen; npm's wasm-opt runs below.
    let mut wasm_pack = cmd(
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
    );
    if !cargo_args.is_empty() {
        // Cargo's own arguments from here.
        wasm_pack.arg("--").args(cargo_args);
    }
    if with_debug_file {
        wasm_pack.env("CARGO_PROFILE_WASM_RELEASE_DEBUG", "line-tables-only");
    }
    exec(&mut wasm_pack)?;
    // wasm-pack's `*` .gitignore would make `npm pack` drop pkg/snippets/; the
    // repository's own .gitignore already keeps npm/pkg out of git.
    let _ = std::fs::remove_file(out_dir.join(".gitignore"));
    if with_debug_file {
        // wasm-pack has wasm-bindgen drop DWARF; the same wasm-bindgen run again,
        // keeping it, gives the same module and glue with the debug sections in.
        let artefact = rustc_artefact();
        exec(&mut cmd(
            "wasm-bindgen",
            &[
                "--keep-debug",
                "--target",
                "web",
                "--out-dir",
                &out_dir_arg,
                &artefact.to_string_lossy(),
            ],
        ))?;
    }

    let wasm = out_dir.join(WASM_FILE);
    step("short import names");
    let n_renamed = import_names::shorten(
        &wasm,
        &out_dir.join(format!("{GLUE_NAME}.js")),
        &format!("./{GLUE_NAME}_bg.js"),
    )?;
    println!("{n_renamed} imports renamed");

    // -Os, not -Oz: on this module -Os output is larger raw but 172 bytes
    // smaller gzipped, which is what the browser downloads (measured with
    // binaryen 132). The target_features section only matters to linkers.
    step("wasm-opt -Os");
    let wasm_arg = wasm.to_string_lossy().into_owned();
    let debug_file = with_debug_file.then(wasm_debug_file);
    if let Some(debug_file) = &debug_file {
        // Optimise keeping DWARF (-g), keep that as the debug file, then drop
        // its custom sections byte by byte: the code, and so every instruction
        // address, is the same in the shipped module and the debug file (wasm-opt
        // would re-encode the code, moving every address the DWARF describes).
        let debug_arg = debug_file.to_string_lossy().into_owned();
        std::fs::create_dir_all(debug_file.parent().unwrap_or(Path::new(".")))?;
        wasm_opt(&["-Os", "-g", "-o", &debug_arg, &wasm_arg])?;
        wasm_sections::strip_custom_sections(debug_file, &wasm)?;
    } else {
        wasm_opt(&[
            "-Os",
            "--strip-debug",
            "--strip-producers",
            "--strip-target-features",
            "-o",
            &wasm_arg,
            &wasm_arg,
        ])?;
    }
    // Last: wasm-opt drops custom sections it does not know.
    let id = wasm_sections::write_build_id(&wasm, debug_file.as_deref())?;
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    println!("build_id section {hex} written");
    Ok(())
}

/// The module as rustc linked it (before wasm-bindgen and wasm-opt), with its
/// function names.
fn rustc_artefact() -> std::path::PathBuf {
    let target_dir = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| project_root().join("target"));
    target_dir.join("wasm32-unknown-unknown/wasm-release/ff_telemetry_web.wasm")
}

/// npm's binaryen: Debian's wasm-opt (108) turns wasm-bindgen's externref table into
/// one the browser refuses at start-up, and the newer one also makes smaller output.
fn wasm_opt(args: &[&str]) -> Result<()> {
    let mut all: Vec<&str> = WASM_FEATURES.to_vec();
    all.extend_from_slice(args);
    let bin = project_root().join("www/node_modules/.bin/wasm-opt");
    exec(&mut cmd(&bin.to_string_lossy(), &all))
}

/// Minifies wasm-bindgen's JS glue and the inline snippets in place, each file
/// on its own so the package keeps its layout: the glue carries every Rust doc
/// comment as JSDoc (the `.d.ts` keeps them for editors), and minified it is
/// about 3.6 KB smaller gzipped, which counts against the size budget.
fn minify_glue(out_dir: &Path) -> Result<()> {
    step("minify JS glue (rolldown)");
    let glue = out_dir.join(format!("{GLUE_NAME}.js"));
    let snippets = snippet_files(out_dir)?;
    // The glue imports each snippet by this relative id; it stays an import.
    let externals: Vec<String> = snippets
        .iter()
        .filter_map(|file| file.strip_prefix(out_dir).ok())
        .map(|rel| format!("./{}", rel.to_string_lossy()))
        .collect();
    minify_js(&glue, &externals.join(","))?;
    snippets.iter().try_for_each(|file| minify_js(file, ""))
}

/// `file` minified as an ES module by the SPA's own bundler, `externals` left as imports.
fn minify_js(file: &Path, externals: &str) -> Result<()> {
    let bin = project_root().join("www/node_modules/.bin/rolldown");
    let input = file.to_string_lossy().into_owned();
    let minified = file.with_extension("min.js");
    let output = minified.to_string_lossy().into_owned();
    let mut args = vec![
        input.as_str(),
        "--minify",
        "--format",
        "esm",
        "--file",
        &output,
    ];
    if !externals.is_empty() {
        args.extend(["--external", externals]);
    }
    exec(&mut cmd(&bin.to_string_lossy(), &args))?;
    std::fs::rename(&minified, file)
        .with_context(|| format!("replacing {} with its minified form", file.display()))
}

/// The inline JS snippets wasm-bindgen wrote (`snippets/<crate>/<file>.js`).
fn snippet_files(out_dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut files = Vec::new();
    let snippets = out_dir.join("snippets");
    if snippets.is_dir() {
        for crate_dir in std::fs::read_dir(&snippets)? {
            for file in std::fs::read_dir(crate_dir?.path())? {
                files.push(file?.path());
            }
        }
    }
    Ok(files)
}

/// The demo SPA, importing the package above by name as a user's app would.
fn spa(hidden_source_maps: bool) -> Result<()> {
    step("demo SPA (vite build)");
    let mut vite = cmd("npm", &["run", "build"]);
    vite.current_dir(project_root().join("www"));
    if hidden_source_maps {
        vite.env("FF_TELEMETRY_SOURCEMAPS", "1");
    }
    exec(&mut vite)
}

/// The workspace version, which is the platform's version and so the release's.
fn workspace_version() -> Result<String> {
    let manifest = std::fs::read_to_string(project_root().join("Cargo.toml"))?;
    let doc: toml::Table = manifest.parse()?;
    doc.get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .context("workspace.package.version is not set in Cargo.toml")
}

/// Prints the gzipped size of the module and glue in `out_dir` against `budget`,
/// and whether it is within the ceiling.
fn report_sizes(what: &str, out_dir: &Path, budget: SizeBudget) -> Result<bool> {
    let wasm = gzipped_len(&[out_dir.join(WASM_FILE)])?;
    let mut js_files = vec![out_dir.join(format!("{GLUE_NAME}.js"))];
    js_files.extend(snippet_files(out_dir)?);
    let js = gzipped_len(&js_files)?;
    let total = wasm + js;
    let SizeBudget { target, ceiling } = budget;
    let verdict = |limit: usize| {
        if total <= limit {
            "within".to_owned()
        } else {
            format!("OVER by {}", total - limit)
        }
    };
    println!("{what}:");
    println!("  {GLUE_NAME}_bg.wasm    {wasm:>7} bytes gzipped");
    println!("  JS glue (+ inline snippets) {js:>7} bytes gzipped");
    println!("  total                       {total:>7} bytes gzipped");
    println!("    target  {target:>7} bytes: {}", verdict(target));
    println!(
        "    ceiling {ceiling:>7} bytes: {} (the build fails over it)",
        verdict(ceiling)
    );
    Ok(total <= ceiling)
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
