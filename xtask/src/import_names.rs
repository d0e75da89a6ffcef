//! Short names for the functions the JS glue gives the module.
//!
//! wasm-bindgen names each of them `__wbg_<name>_<16 hex digits>` (the digits keep
//! names from different crates apart): about 140 names of 30 to 60 bytes, written
//! twice, in the module's import section and as the keys of the glue's imports
//! object, and gzip cannot compress the hex digits. Nothing outside the package
//! reads them: the glue hands its imports object to `WebAssembly.instantiate` and
//! that is all. Renamed `a`, `b`, … in both files, the SDK downloads about 4.4 KB
//! less (gzipped).
//!
//! The rewrite does not depend on how the glue is laid out: the module is read and
//! written with wasmparser and wasm-encoder, and a name is renamed only where the
//! glue has it exactly once, as a whole word followed by `:` (an object key); a
//! glue that uses a name anywhere else keeps the long name for that import. The
//! end-to-end suite runs the package this produces.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, Result};
use wasm_encoder::{EntityType, ImportSection, Module, RawSection};
use wasmparser::{Parser, Payload};

/// Renames the imports of `wasm` from `glue_module` (the glue's own module name,
/// `./<name>_bg.js`) in `wasm` and in the glue file `glue`, in place; returns how
/// many were renamed.
pub fn shorten(wasm: &Path, glue: &Path, glue_module: &str) -> Result<usize> {
    let module = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let text =
        std::fs::read_to_string(glue).with_context(|| format!("reading {}", glue.display()))?;
    let (module, text, n_renamed) = rename(&module, &text, glue_module)
        .with_context(|| format!("shortening the import names of {}", wasm.display()))?;
    std::fs::write(wasm, module)?;
    std::fs::write(glue, text)?;
    Ok(n_renamed)
}

/// [`shorten`] on the bytes and text: the new module, the new glue and how many
/// imports were renamed.
fn rename(module: &[u8], glue: &str, glue_module: &str) -> Result<(Vec<u8>, String, usize)> {
    let mut out = Module::new();
    let mut glue = glue.to_owned();
    let mut n_renamed = 0;
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload?;
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        let Payload::ImportSection(reader) = payload else {
            out.section(&RawSection {
                id,
                data: &module[range],
            });
            continue;
        };
        let imports: Vec<_> = reader.into_imports().collect::<Result<_, _>>()?;
        let taken: HashSet<&str> = imports.iter().map(|i| i.name).collect();
        let mut short_names = (0..)
            .map(short_name)
            .filter(|n| !taken.contains(n.as_str()));
        let mut section = ImportSection::new();
        for import in &imports {
            let ty = EntityType::try_from(import.ty)
                .map_err(|e| anyhow::anyhow!("import {}: {e:?}", import.name))?;
            let renamed = if import.module == glue_module && key_count(&glue, import.name) == 1 {
                let short = short_names.next().context("names run out")?;
                glue = replace_key(&glue, import.name, &short);
                n_renamed += 1;
                Some(short)
            } else {
                None
            };
            section.import(import.module, renamed.as_deref().unwrap_or(import.name), ty);
        }
        out.section(&section);
    }
    Ok((out.finish(), glue, n_renamed))
}

/// The `n`th short name: `a` … `z`, `A` … `Z`, then two letters and so on
/// (letters only, so every name is a valid identifier).
fn short_name(n: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = Vec::new();
    let mut n = n;
    loop {
        name.push(LETTERS[n % LETTERS.len()]);
        n /= LETTERS.len();
        if n == 0 {
            break;
        }
        n -= 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// Where `name` occurs in `text` as a whole word.
fn word_positions<'t>(text: &'t str, name: &'t str) -> impl Iterator<Item = usize> + 't {
    let bytes = text.as_bytes();
    text.match_indices(name)
        .map(|(at, _)| at)
        .filter(move |&at| {
            let end = at + name.len();
            let before_ok = at == 0 || !is_word_byte(bytes[at - 1]);
            let after_ok = end == bytes.len() || !is_word_byte(bytes[end]);
            before_ok && after_ok
        })
}

/// How often `name` occurs in `text` as a whole word, when every occurrence is an
/// object key (`name:` or `"name":`); `usize::MAX` when one is something else.
fn key_count(text: &str, name: &str) -> usize {
    let mut count = 0;
    for at in word_positions(text, name) {
        let rest = text[at + name.len()..].trim_start_matches(['"', '\'']);
        if !rest.trim_start().starts_with(':') {
            return usize::MAX;
        }
        count += 1;
    }
    count
}

/// `text` with the whole-word occurrences of `name` replaced by `short`.
fn replace_key(text: &str, name: &str, short: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for at in word_positions(text, name) {
        out.push_str(&text[copied..at]);
        out.push_str(short);
        copied = at + name.len();
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use wasm_encoder::{TypeSection, ValType};

    use super::*;

    /// A module importing `names` (module, name) as functions of one type.
    fn module(names: &[(&str, &str)]) -> Vec<u8> {
        let mut types = TypeSection::new();
        types.ty().function([ValType::I32], []);
        let mut imports = ImportSection::new();
        for (module, name) in names {
            imports.import(module, name, EntityType::Function(0));
        }
        let mut module = Module::new();
        module.section(&types).section(&imports);
        module.finish()
    }

    fn import_names(module: &[u8]) -> Vec<String> {
        let mut names = Vec::new();
        for payload in Parser::new(0).parse_all(module) {
            if let Payload::ImportSection(reader) = payload.unwrap() {
                for import in reader.into_imports() {
                    names.push(import.unwrap().name.to_owned());
                }
            }
        }
        names
    }

    #[test]
    fn renames_glue_keys_in_both_files_and_leaves_the_rest() {
        let wasm = module(&[
            ("./x_bg.js", "__wbg_warn_0989df88f826aef6"),
            ("./x_bg.js", "__wbg_now_1fa70cf6da720ec0"),
            ("./x_bg.js", "__wbg_used_elsewhere_42702744b2284b6f"),
            ("./snippets/y.js", "helper"),
        ]);
        let glue = "const import0 = {\n  __proto__: null,\n  __wbg_warn_0989df88f826aef6: function(a) { console.warn(a) },\n  \"__wbg_now_1fa70cf6da720ec0\" : () => Date.now(),\n  __wbg_used_elsewhere_42702744b2284b6f: f,\n};\ncall(__wbg_used_elsewhere_42702744b2284b6f);\nconst x = { helper: 1 };\n";
        let (wasm, glue, n_renamed) = rename(&wasm, glue, "./x_bg.js").unwrap();
        assert_eq!(n_renamed, 2);
        assert_eq!(
            import_names(&wasm),
            ["a", "b", "__wbg_used_elsewhere_42702744b2284b6f", "helper"]
        );
        assert!(
            glue.contains("\n  a: function(a) { console.warn(a) },"),
            "{glue}"
        );
        assert!(glue.contains("\n  \"b\" : () => Date.now(),"), "{glue}");
        assert_eq!(
            glue.matches("__wbg_used_elsewhere_42702744b2284b6f")
                .count(),
            2
        );
        assert!(glue.contains("{ helper: 1 }"));
        wasmparser::validate(&wasm).unwrap();
    }

    #[test]
    fn short_names_are_identifiers_and_distinct() {
        let names: Vec<String> = (0..3000).map(short_name).collect();
        assert_eq!(&names[..3], ["a", "b", "c"]);
        assert_eq!(names[52], "aa");
        let distinct: HashSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
        assert!(
            names
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_alphabetic()))
        );
    }
}
