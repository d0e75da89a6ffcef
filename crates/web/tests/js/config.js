// Page-side helpers for tests/config.rs: what the tests do to the page as a host app
// or a user would, imported with #[wasm_bindgen(module = "/tests/js/config.js")].

export function warningsWhile(text, f) {
  const warn = console.warn;
  let warnings = 0;
  console.warn = function (...args) {
    if (args.map(String).join(" ").includes(text)) warnings++;
    return warn.apply(this, args);
  };
  let threw = false;
  try { f(); } catch (e) { threw = true; } finally { console.warn = warn; }
  return threw ? -1 : warnings;
}
