//! A crash of SDK code must not break the page: every call from JavaScript
//! into the SDK (API methods, listeners, timers, HTTP answers, `flush` steps)
//! runs through [`guarded`], inside a JavaScript `try` ([`crate::js::guard`])
//! that hands back what was thrown. Something thrown is a crash: the SDK
//! switches off for the page, warns once and hands it to the crash reporter
//! (browser Sentry, when configured, registers itself with
//! [`set_crash_reporter`]) as an unhandled error that crashes the session.
//!
//! A Rust panic is such a crash: std's panic hook runs (a no-op in the
//! browser, where stderr goes nowhere), then the module aborts with a trap
//! (`unreachable`), which is caught like any exception; the trap's own stack,
//! with its wasm frames, says where it happened.
//!
//! A trap cuts the calls it interrupts short: what they had borrowed (the
//! clients' `RefCell`s) stays borrowed, which the report copes with, and
//! the SDK, switched off, never touches it again.

use std::cell::{Cell, RefCell, RefMut};

use wasm_bindgen::JsValue;

thread_local! {
    /// Whether a crash switched the SDK off.
    static DISABLED: Cell<bool> = const { Cell::new(false) };
    /// Who reports a crash (browser Sentry), if anyone: registered rather
    /// than called by name, so this module depends on no client.
    static CRASH_REPORTER: Cell<Option<fn(&JsValue)>> = const { Cell::new(None) };
}

/// Makes `report` the function a crash is handed to (after the warning).
pub fn set_crash_reporter(report: fn(&JsValue)) {
    CRASH_REPORTER.set(Some(report));
}

/// Runs `f` unless the SDK is off, inside a JavaScript `try`, so neither an
/// exception nor a trap reaches the caller; either switches the SDK off.
pub fn guarded(mut f: impl FnMut()) {
    guarded_dyn(&mut f);
}

/// [`guarded`] through `dyn`: one copy of the guard for every caller.
fn guarded_dyn(f: &mut dyn FnMut()) {
    if DISABLED.get() {
        return;
    }
    if let Some(thrown) = crate::js::guard(f) {
        crashed(&thrown);
    }
}

/// Switches the SDK off after `thrown` escaped SDK code, warns with it (its
/// stack has the wasm frames) and reports it. Once: a guarded call inside
/// another (a getter of the app's that calls the SDK, say) can only crash
/// first. The warning and the report run guarded as well: the report is SDK
/// code, and the console is the page's (a `console.warn` that throws, the
/// first crash's likely cause then, must not reach the caller either); a
/// throw in either ends both.
fn crashed(thrown: &JsValue) {
    if DISABLED.replace(true) {
        return;
    }
    crate::js::guard(&mut || {
        crate::js::warn_error("internal error, telemetry is off for this page:", thrown);
        if let Some(report) = CRASH_REPORTER.get() {
            report(thrown);
        }
    });
}

/// `cell.borrow_mut()`, for the clients' state, panicking (a crash like any
/// other) when the state is in use already: a re-entrant call, a bug.
pub fn borrow<T>(cell: &RefCell<T>) -> RefMut<'_, T> {
    match cell.try_borrow_mut() {
        Ok(state) => state,
        Err(_) => panic!("telemetry state in use by a re-entrant call"),
    }
}
