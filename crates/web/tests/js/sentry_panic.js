// Page-side helpers for tests/sentry_panic.rs: what the tests do to the page as a host app
// or a user would, imported with #[wasm_bindgen(module = "/tests/js/sentry_panic.js")].

export function dispatchCountingErrors(name) {
  let errors = 0;
  const count = () => errors++;
  addEventListener("error", count);
  try { dispatchEvent(new Event(name)); } finally { removeEventListener("error", count); }
  return errors;
}
