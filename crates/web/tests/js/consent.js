// Page-side helpers for tests/consent.rs: what the tests read of the page, imported
// with #[wasm_bindgen(module = "/tests/js/consent.js")].

export function storedItem(key) { return localStorage.getItem(key); }
export function forgetDecision() { localStorage.removeItem("ff_telemetry_consent"); }
export function cookieCount() { return document.cookie ? document.cookie.split(";").length : 0; }
export function keysContaining(text) { return Object.keys(localStorage).filter((k) => k.includes(text)).length; }
