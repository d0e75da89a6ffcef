// Page-side helpers for tests/host_throws.rs: what the tests do to the page as a host app
// or a user would, imported with #[wasm_bindgen(module = "/tests/js/host_throws.js")].

export function throwsWithThrowingWarn(f) {
  const warn = console.warn;
  console.warn = () => { throw new Error("warnings are errors in this app"); };
  try { f(); return false; } catch (e) { return true; } finally { console.warn = warn; }
}
