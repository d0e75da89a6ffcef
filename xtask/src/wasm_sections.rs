//! Byte-level edits of the wasm module that keep every other byte where it
//! was, so that the code offsets the browser reports for the shipped module
//! are those the debug file's DWARF describes (binaryen re-encodes the code
//! when it writes a module, even to strip a section, so it cannot do these):
//!
//! - the shipped module is the debug file without its custom sections
//!   ([`strip_custom_sections`]);
//! - both get the same `build_id` custom section ([`write_build_id`]), by which
//!   Sentry matches them (`sentry-cli` and Sentry's symbolicator read it: the
//!   section's raw bytes are the code id, its first 16 read as a UUID the
//!   debug id). The SDK reads the same section at start
//!   (`WebAssembly.Module.customSections`) and names it in its events.

use std::ops::Range;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use sha2::{Digest, Sha256};

/// The custom section's name, as `@sentry/wasm` and symbolic look it up.
pub const SECTION: &str = "build_id";
/// The id the build writes: 16 bytes, a whole UUID.
const LEN: usize = 16;
const MAGIC_AND_VERSION: [u8; 8] = *b"\0asm\x01\0\0\0";
/// Section ids of the wasm binary format.
const CUSTOM: u8 = 0;
const CODE: u8 = 10;

/// One section of a module: its id, its name if it is a custom section, and
/// where its contents (after the name, for a custom section) are in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub id: u8,
    pub name: Option<String>,
    pub contents: Range<usize>,
}

/// Gives the module at `shipped`, and the debug file made from the same
/// optimised code at `debug_file` if any, one `build_id`: the first 16 bytes
/// of the SHA-256 of the shipped module, so the same code always gets the
/// same id. The section is appended after every other one, so no section
/// moves: the code offsets the browser reports stay those of the debug file.
/// Returns the id.
pub fn write_build_id(shipped: &Path, debug_file: Option<&Path>) -> Result<[u8; LEN]> {
    let module = read(shipped)?;
    let digest = Sha256::digest(&module);
    let mut id = [0; LEN];
    id.copy_from_slice(&digest[..LEN]);
    append(shipped, module, &id)?;
    if let Some(debug_file) = debug_file {
        append(debug_file, read(debug_file)?, &id)?;
    }
    Ok(id)
}

/// Writes the module at `from` without its custom sections (DWARF, names,
/// producers, target features) to `to`: every other section byte for byte.
pub fn strip_custom_sections(from: &Path, to: &Path) -> Result<()> {
    let module = read(from)?;
    let mut out = module[..MAGIC_AND_VERSION.len()].to_vec();
    let mut at = MAGIC_AND_VERSION.len();
    for section in sections(&module)? {
        let end = section.contents.end;
        if section.id != CUSTOM {
            out.extend_from_slice(&module[at..end]);
        }
        at = end;
    }
    std::fs::write(to, out).with_context(|| format!("writing {}", to.display()))
}

/// The contents of the module's `build_id` section, if it has one.
pub fn read_id(module: &[u8]) -> Result<Option<Vec<u8>>> {
    Ok(sections(module)?
        .into_iter()
        .find(|s| s.name.as_deref() == Some(SECTION))
        .map(|s| module[s.contents].to_vec()))
}

/// Where the code section's contents are in `module`.
pub fn code_section(module: &[u8]) -> Result<Range<usize>> {
    sections(module)?
        .into_iter()
        .find(|s| s.id == CODE)
        .map(|s| s.contents)
        .context("the module has no code section")
}

/// Every section header of `module`, in file order.
pub fn sections(module: &[u8]) -> Result<Vec<Section>> {
    ensure!(
        module.starts_with(&MAGIC_AND_VERSION),
        "not a WebAssembly module (version 1)"
    );
    let mut at = MAGIC_AND_VERSION.len();
    let mut out = Vec::new();
    while at < module.len() {
        let id = module[at];
        at += 1;
        let size = leb128(module, &mut at)?;
        let start = at;
        let end = start
            .checked_add(size)
            .filter(|&end| end <= module.len())
            .context("a section runs past the end of the module")?;
        let (name, contents) = if id == CUSTOM {
            let mut name_at = start;
            let name_len = leb128(module, &mut name_at)?;
            let name_end = name_at
                .checked_add(name_len)
                .filter(|&e| e <= end)
                .context("a custom section's name runs past the section")?;
            let name = String::from_utf8(module[name_at..name_end].to_vec())
                .context("a custom section's name is not UTF-8")?;
            (Some(name), name_end..end)
        } else {
            (None, start..end)
        };
        out.push(Section { id, name, contents });
        at = end;
    }
    Ok(out)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// Writes `module` with a `build_id` section holding `id` appended.
fn append(path: &Path, mut module: Vec<u8>, id: &[u8]) -> Result<()> {
    if read_id(&module)?.is_some() {
        bail!("{} has a {SECTION} section already", path.display());
    }
    let mut contents = Vec::new();
    write_leb128(&mut contents, SECTION.len());
    contents.extend_from_slice(SECTION.as_bytes());
    contents.extend_from_slice(id);
    module.push(CUSTOM);
    write_leb128(&mut module, contents.len());
    module.extend_from_slice(&contents);
    std::fs::write(path, module).with_context(|| format!("writing {}", path.display()))
}

/// Reads the unsigned LEB128 number at `*at`, moving `*at` past it.
fn leb128(bytes: &[u8], at: &mut usize) -> Result<usize> {
    let mut value = 0usize;
    for shift in (0..35).step_by(7) {
        let byte = *bytes
            .get(*at)
            .context("a number runs past the end of the module")?;
        *at += 1;
        value |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    bail!("a number in the module is longer than 5 bytes")
}

fn write_leb128(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with one empty function: a type, a function and a code section.
    const MODULE: &[u8] =
        b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0\x03\x02\x01\0\x0a\x04\x01\x02\0\x0b";

    fn scratch(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = crate::shell::project_root().join("target/xtask-tests");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn shipped_module_and_debug_file_get_the_same_id_and_keep_their_code_offsets() {
        let mut with_dwarf = MODULE.to_vec();
        with_dwarf.extend_from_slice(b"\0\x0d\x0b.debug_info\x07");
        let shipped = scratch("shipped.wasm", MODULE);
        let debug = scratch("debug.wasm", &with_dwarf);
        let id = write_build_id(&shipped, Some(&debug)).unwrap();

        let shipped = std::fs::read(shipped).unwrap();
        let debug = std::fs::read(debug).unwrap();
        assert_eq!(read_id(&shipped).unwrap().as_deref(), Some(&id[..]));
        assert_eq!(read_id(&debug).unwrap().as_deref(), Some(&id[..]));
        assert_eq!(
            code_section(&shipped).unwrap(),
            code_section(MODULE).unwrap()
        );
        assert_eq!(code_section(&debug).unwrap(), code_section(MODULE).unwrap());
        assert!(shipped.starts_with(MODULE) && debug.starts_with(&with_dwarf));
        let names: Vec<_> = sections(&debug)
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(
            names,
            [
                None,
                None,
                None,
                Some(".debug_info".to_owned()),
                Some("build_id".to_owned())
            ]
        );
        // The same code, the same id.
        let again = scratch("again.wasm", MODULE);
        assert_eq!(write_build_id(&again, None).unwrap(), id);
    }

    #[test]
    fn a_module_gets_one_build_id_only() {
        let shipped = scratch("twice.wasm", MODULE);
        write_build_id(&shipped, None).unwrap();
        let err = write_build_id(&shipped, None).unwrap_err().to_string();
        assert!(err.contains("has a build_id section already"), "{err}");
    }

    #[test]
    fn stripping_keeps_every_other_section_byte_for_byte() {
        let mut with_custom = MODULE.to_vec();
        with_custom.extend_from_slice(b"\0\x0d\x0b.debug_info\x07\0\x05\x04name");
        let debug = scratch("strip-from.wasm", &with_custom);
        let shipped = crate::shell::project_root().join("target/xtask-tests/strip-to.wasm");
        strip_custom_sections(&debug, &shipped).unwrap();
        assert_eq!(std::fs::read(shipped).unwrap(), MODULE);
    }

    #[test]
    fn broken_modules_are_errors() {
        assert!(sections(b"\0asx\x01\0\0\0").is_err());
        assert!(sections(b"\0asm\x01\0\0\0\x0a\x09\x01").is_err());
        assert!(code_section(b"\0asm\x01\0\0\0").is_err());
    }
}
