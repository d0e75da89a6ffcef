// Page-side helpers for tests/browser.rs: what the tests do to the page as a host app
// or a user would, imported with #[wasm_bindgen(module = "/tests/js/browser.js")].

export function pushState(path) { history.pushState(null, "", path); }
export function replaceState(path) { history.replaceState(null, "", path); }
export function currentPath() { return location.pathname + location.search; }
export function storeItem(key, value) { localStorage.setItem(key, value); }
export function storedKeysContaining(text) {
  return Object.keys(localStorage).filter((k) => k.includes(text)).length;
}
export async function heldLocksStartingWith(prefix) {
  const { held } = await navigator.locks.query();
  return held.filter((lock) => lock.name.startsWith(prefix)).length;
}
// Steals the locks: what the browser does when the page holding them goes away.
export async function releaseLocksStartingWith(prefix) {
  const { held } = await navigator.locks.query();
  for (const { name } of held.filter((lock) => lock.name.startsWith(prefix))) {
    await navigator.locks.request(name, { steal: true }, () => {});
  }
}
let counted = { warnings: 0, writes: 0 };
export function countWarningsAndWrites(warningText, keyText) {
  counted = { warnings: 0, writes: 0 };
  const warn = console.warn, setItem = Storage.prototype.setItem;
  console.warn = function (...args) {
    if (args.map(String).join(" ").includes(warningText)) counted.warnings++;
    return warn.apply(this, args);
  };
  Storage.prototype.setItem = function (key, value) {
    if (String(key).includes(keyText)) counted.writes++;
    return setItem.call(this, key, value);
  };
  return () => { console.warn = warn; Storage.prototype.setItem = setItem; };
}
export function countedWarnings() { return counted.warnings; }
export function countedWrites() { return counted.writes; }
export function setConfigScript(json) {
  let el = document.getElementById("ff-telemetry-config");
  if (!el) {
    el = document.createElement("script");
    el.type = "application/json";
    el.id = "ff-telemetry-config";
    document.head.appendChild(el);
  }
  el.textContent = json;
}
export function loneSurrogateProps() { return { x: "\ud800", y: "ok" }; }
export function countPageErrors() {
  let errors = 0;
  const count = () => errors++;
  addEventListener("error", count);
  return () => { removeEventListener("error", count); return errors; };
}
export function bigProps(n) { return { pad: "x".repeat(n) }; }
export function fillStorage(room) {
  if (room > 0) localStorage.setItem("ff_filler_room", "x".repeat(room));
  let i = 0;
  for (let size = 1 << 23; size >= 1;) {
    try { localStorage.setItem("ff_filler_" + i, "x".repeat(size)); i++; }
    catch (e) { size >>= 1; }
  }
  localStorage.removeItem("ff_filler_room");
}
export function clearFiller() {
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith("ff_filler_")) localStorage.removeItem(key);
  }
}
