//! The browser SDK of ff-telemetry, compiled to WebAssembly: PostHog pageviews
//! and pageleaves for single-page apps, and browser Sentry (errors, release
//! health, navigation transactions), with one transport and storage for both.
//!
//! It decides nothing itself: identity, sessions, page events, batching and
//! retries are `ff_telemetry_browser::posthog` state machines, and all of Sentry
//! is `ff_telemetry_browser::sentry::BrowserSentry`; this crate is the thin edge
//! that feeds them the time, random bytes and browser events, and does their
//! I/O, on the crates a Rust/WebAssembly engineer expects: web-sys and js-sys
//! for the browser APIs, gloo-net (with wasm-bindgen-futures) for HTTP, and
//! serde-wasm-bindgen for the config and the properties the app passes. No
//! exported function throws.
//!
//! # Concepts
//!
//! - `init(config?)` returns a [`Telemetry`] handle whose methods are typed
//!   exports: `routeChanged`, `navigationStarted`, `capture`, `identify`,
//!   `group`, `reset`, `optIn`, `optOut`, `hasOptedOut`, `consent`, `flush`,
//!   `captureException` and `captureMessage` (the Rust methods of the same
//!   names in snake case).
//! - The config is read by serde-wasm-bindgen into the frontend-config types,
//!   part by part: a field of the wrong type switches its part off with one
//!   warning naming the field.
//! - Events go in batches to `{apiurl}/batch/` every 3 s (gzip via
//!   `CompressionStream` where the browser has it); unsent events wait in
//!   `localStorage`, under a key per page load whose Web Lock the page holds
//!   (another tab, or the next page load, adopts the queue of a page that is
//!   gone), and on `pagehide` they and the final `$pageleave` leave by
//!   `sendBeacon`.
//! - Consent: with `consent: "pending"` in the config, PostHog stores and
//!   sends nothing until `consent(true)` (normal tracking from then on) or
//!   `consent(false)` (cookieless, or nothing with `consent_denied:
//!   "nothing"`); the decision is kept in `localStorage` for later page loads.
//! - Sentry: window `error` and `unhandledrejection` events, Rust panics in
//!   the SDK and `captureException`/`captureMessage` become envelopes POSTed one
//!   at a time (`text/plain`, query-string auth) to the DSN's endpoint; the
//!   answers' rate limits are obeyed; on `pagehide` the session's end leaves by
//!   beacon; envelopes that found no network wait in `localStorage` for the
//!   next page load.
//!
//! ```js
//! import initWasm, { init } from "ff-telemetry-web";
//! await initWasm();
//! // Reads <script type="application/json" id="ff-telemetry-config">.
//! const telemetry = init();
//! router.afterEach((to, from) => telemetry.routeChanged(to.fullPath, from.fullPath));
//! telemetry.capture("instance started", { stack: "3.1" });
//! telemetry.identify("user-42", { plan: "team" });
//! await telemetry.flush();
//! ```
//!
//! # Features
//!
//! - `sentry` (default): browser Sentry. Without it the module is PostHog
//!   only (a `sentry` config gets one warning), and smaller.
//! - `test-hooks`: `Telemetry::panic_on_event_for_test(name)` (Rust only), for
//!   the browser suite.
//!
//! Build the npm package with `cargo xtask build`.

#![deny(missing_docs, missing_debug_implementations)]

mod api;
mod config;
mod js;
mod listeners;
mod panic;
mod posthog;
mod sentry;
mod transport;

pub use api::{Telemetry, init};
pub use config::CONFIG_ELEMENT_ID;

// Locked rather than `AssumeSingleThreaded`, which needs `unsafe` to build;
// the lock costs a few bytes in a single-threaded page.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());
