//! Short import and export names in the shipped wasm module.
//!
//! wasm-bindgen names each import `__wbg_<name>_<16 hex digits>` and keeps the
//! Rust names of the exports; the names sit in the module and again in the JS
//! glue, and random hex digits do not compress. binaryen's
//! `--minify-imports-and-exports-and-modules` renames them all to one or two
//! letters (every import from module `a`) and prints the mapping; the glue is
//! rewritten here to match. About 2 KB gzipped off the wasm alone.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// The flag that makes wasm-opt rename, and print the mapping on stdout.
pub const WASM_OPT_FLAG: &str = "--minify-imports-and-exports-and-modules";
/// The module every import comes from after renaming.
const IMPORT_MODULE: &str = "a";

/// What wasm-opt printed: `[module, old name, new name]` per import and
/// `[old name, new name]` per export.
#[derive(Debug)]
pub struct Renaming {
    imports: Vec<(String, String, String)>,
    exports: Vec<(String, String)>,
}

impl Renaming {
    /// The mapping in wasm-opt's stdout.
    pub fn parse(stdout: &str) -> Result<Renaming> {
        let start = stdout
            .find('{')
            .context("wasm-opt printed no import/export mapping")?;
        let mapping: Value =
            serde_json::from_str(&stdout[start..]).context("reading wasm-opt's name mapping")?;
        let rows = |key: &str| -> Result<Vec<Vec<String>>> {
            mapping[key]
                .as_array()
                .with_context(|| format!("wasm-opt's mapping has no {key:?}"))?
                .iter()
                .map(|row| {
                    row.as_array()
                        .map(|cells| {
                            cells
                                .iter()
                                .filter_map(|c| c.as_str().map(str::to_owned))
                                .collect()
                        })
                        .context("a mapping row is not an array")
                })
                .collect()
        };
        let imports = rows("imports")?
            .into_iter()
            .map(|row| match <[String; 3]>::try_from(row) {
                Ok([module, old, new]) => Ok((module, old, new)),
                Err(row) => bail!("an import mapping row is not [module, old, new]: {row:?}"),
            })
            .collect::<Result<_>>()?;
        let exports = rows("exports")?
            .into_iter()
            .map(|row| match <[String; 2]>::try_from(row) {
                Ok([old, new]) => Ok((old, new)),
                Err(row) => bail!("an export mapping row is not [old, new]: {row:?}"),
            })
            .collect::<Result<_>>()?;
        Ok(Renaming { imports, exports })
    }

    /// Rewrites wasm-bindgen's glue (`<name>.js`) and the wasm's `.d.ts` in
    /// `out_dir` for the renamed module.
    pub fn apply(&self, out_dir: &Path, glue_name: &str) -> Result<()> {
        let glue = out_dir.join(format!("{glue_name}.js"));
        let text = std::fs::read_to_string(&glue)?;
        let text = self.rename_exports(&text, "wasm.")?;
        let text = self.rewrite_import_object(&text)?;
        std::fs::write(&glue, text)?;
        // Types for bundlers that import the `.wasm` itself: the same exports.
        let types = out_dir.join(format!("{glue_name}_bg.wasm.d.ts"));
        if types.exists() {
            let text = std::fs::read_to_string(&types)?;
            std::fs::write(&types, self.rename_exports(&text, "export const ")?)?;
        }
        Ok(())
    }

    /// Every `<prefix><old export name>` as `<prefix><new name>`; an export the
    /// text uses but the mapping lacks is an error, not a broken package.
    fn rename_exports(&self, text: &str, prefix: &str) -> Result<String> {
        let new_names: BTreeMap<&str, &str> = self
            .exports
            .iter()
            .map(|(old, new)| (old.as_str(), new.as_str()))
            .collect();
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find(prefix) {
            let after = &rest[at + prefix.len()..];
            let name_len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
                .unwrap_or(after.len());
            let name = &after[..name_len];
            let preceded_by_identifier = rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            out.push_str(&rest[..at + prefix.len()]);
            match new_names.get(name) {
                _ if preceded_by_identifier || name.is_empty() => out.push_str(name),
                Some(new) => out.push_str(new),
                None => bail!("the glue uses export {name:?}, which wasm-opt did not rename"),
            }
            rest = &after[name_len..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Replaces the object `__wbg_get_imports` returns (`{"<module>": importN,
    /// …}`) with one module `a` of the renamed imports. The glue's own
    /// imports object (`const import0 = {…}`) gets its keys renamed in place,
    /// so the long names leave the glue too; snippet modules' members are
    /// referred to by their (short, readable) names.
    fn rewrite_import_object(&self, text: &str) -> Result<String> {
        let function = text
            .find("function __wbg_get_imports()")
            .context("the glue has no __wbg_get_imports")?;
        let start = function
            + text[function..]
                .find("    return {")
                .context("__wbg_get_imports returns no object")?;
        let end = start
            + text[start..]
                .find("};")
                .context("__wbg_get_imports' object does not end")?
            + 2;
        // `"./module.js": import0,` lines: which variable holds which module.
        let mut module_vars = BTreeMap::new();
        for line in text[start..end].lines() {
            let line = line.trim().trim_end_matches(',');
            if let Some((module, var)) = line.split_once(": ")
                && let Some(module) = module.strip_prefix('"').and_then(|m| m.strip_suffix('"'))
            {
                module_vars.insert(module, var);
            }
        }
        let mut head = text[..start].to_owned();
        let mut members = String::new();
        let mut spread = Vec::new();
        for (module, old, new) in &self.imports {
            let Some(var) = module_vars.get(module.as_str()) else {
                bail!(
                    "wasm-opt renamed an import from {module:?}, which the glue does not provide"
                );
            };
            let key = format!("\n        {old}: ");
            match object_literal(&head, var) {
                Some(range) if head[range.clone()].contains(&key) => {
                    let renamed =
                        head[range.clone()].replacen(&key, &format!("\n        {new}: "), 1);
                    head.replace_range(range, &renamed);
                    if !spread.contains(var) {
                        spread.push(*var);
                    }
                }
                _ => members.push_str(&format!(" {new}: {var}.{old},")),
            }
        }
        let spread: String = spread.iter().map(|var| format!(" ...{var},")).collect();
        let object =
            format!("    return {{ __proto__: null, {IMPORT_MODULE}: {{{spread}{members} }} }};");
        Ok(format!("{head}{object}{}", &text[end..]))
    }
}

/// Where `const <var> = {…};` (at the glue's four-space indent) stands in `text`.
fn object_literal(text: &str, var: &str) -> Option<std::ops::Range<usize>> {
    let start = text.find(&format!("const {var} = {{"))?;
    let len = text[start..].find("\n    };")? + "\n    };".len();
    Some(start..start + len)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLUE: &str = r#"import * as import1 from "./snippets/x/inline0.js"
function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        __wbg_warn_0123456789abcdef: function(arg0) { console.warn(arg0); },
    };
    return {
        __proto__: null,
        "./ff_bg.js": import0,
        "./snippets/x/inline0.js": import1,
    };
}
export function init(c) { return wasm.init(c) + wasm.init_more(wasm.memory.buffer); }
const other = { wasm: 1 }.wasm.init;
"#;

    fn renaming() -> Renaming {
        Renaming::parse(
            r#"noise {"imports": [["./ff_bg.js", "__wbg_warn_0123456789abcdef", "a"],
                ["./snippets/x/inline0.js", "guard", "b"]],
              "exports": [["init", "c"], ["init_more", "d"], ["memory", "e"]]}"#,
        )
        .unwrap()
    }

    #[test]
    fn exports_are_renamed_where_the_glue_calls_them() {
        let text = renaming().rename_exports(GLUE, "wasm.").unwrap();
        assert!(
            text.contains("return wasm.c(c) + wasm.d(wasm.e.buffer);"),
            "{text}"
        );
        assert!(
            text.contains("{ wasm: 1 }.wasm.init"),
            "a property named wasm is left alone"
        );
    }

    #[test]
    fn the_import_object_is_one_module_of_renamed_members() {
        let text = renaming().rewrite_import_object(GLUE).unwrap();
        assert!(
            text.contains(
                "    return { __proto__: null, a: { ...import0, b: import1.guard, } };\n}"
            ),
            "{text}"
        );
        assert!(
            text.contains("        a: function(arg0) { console.warn(arg0); },"),
            "the glue's own import is renamed in place: {text}"
        );
        assert!(!text.contains("0123456789abcdef"), "{text}");
    }

    #[test]
    fn an_export_the_mapping_lacks_is_an_error() {
        let glue = "wasm.unknown_export()";
        assert!(renaming().rename_exports(glue, "wasm.").is_err());
    }
}
