// Page-side helpers for every browser test binary (tests/common/mod.rs): what the tests do to the page as a host app
// or a user would, imported with #[wasm_bindgen(module = "/tests/js/common.js")].

export async function getText(url) { const r = await fetch(url); return await r.text(); }
export async function postJson(url, body) {
  const r = await fetch(url, { method: "POST", body, headers: { "Content-Type": "application/json" } });
  return r.status;
}
export function dispatch(name) { dispatchEvent(new Event(name)); }
export function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }
