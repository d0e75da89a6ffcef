// Page-side helpers for tests/sentry.rs: what the tests do to the page as a host app
// or a user would, imported with #[wasm_bindgen(module = "/tests/js/sentry.js")].

export function makeError(name, message) {
  const e = new Error(message);
  e.name = name;
  return e;
}
export function dispatchError(name, message) {
  const error = makeError(name, message);
  dispatchEvent(new ErrorEvent("error", { error, message: `${name}: ${message}`, cancelable: true }));
}
export function dispatchRejection(message) {
  const reason = new Error(message);
  const promise = Promise.reject(reason);
  promise.catch(() => {});
  dispatchEvent(new PromiseRejectionEvent("unhandledrejection", { promise, reason, cancelable: true }));
}
