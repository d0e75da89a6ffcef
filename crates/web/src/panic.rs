//! A crash of SDK code must not break the page: every call from JavaScript
//! into the SDK (API methods, listeners, timers, HTTP answers, `flush` steps)
//! runs through [`guarded`], inside a JavaScript `try` ([`crate::js::guard`])
//! that hands back what was thrown. Something thrown is a crash: the SDK
//! switches off for the page, warns once and reports it to Sentry (when
//! configured) as an unhandled error that crashes the session.
//!
//! A Rust panic is such a crash: it traps (`unreachable`), and the trap is
//! caught like any exception. There is no panic hook: the npm build's std
//! aborts at once on a panic, with no hook, message or location in the
//! download (see `xtask/src/build.rs`); the trap's own stack, with its wasm
//! frames, says where it happened. Test builds keep std's panic machinery,
//! but reach the SDK's reaction through the same trap.
//!
//! A trap cuts the calls it interrupts short: what they had borrowed (the
//! clients' `RefCell`s) stays borrowed, which the report copes with, and
//! the SDK, switched off, never touches it again.

use std::cell::{RefCell, RefMut};
use std::sync::atomic::{AtomicBool, Ordering};

use wasm_bindgen::JsValue;

/// Whether a crash switched the SDK off.
static DISABLED: AtomicBool = AtomicBool::new(false);

/// Runs `f` unless the SDK is off, inside a JavaScript `try`, so neither an
/// exception nor a trap reaches the caller; either switches the SDK off.
pub fn guarded(mut f: impl FnMut()) {
    guarded_dyn(&mut f);
}

/// [`guarded`] through `dyn`: one copy of the guard for every caller.
fn guarded_dyn(f: &mut dyn FnMut()) {
    if DISABLED.load(Ordering::Relaxed) {
        return;
    }
    let thrown = crate::js::guard(&mut || f());
    if !thrown.is_undefined() {
        crashed(&thrown);
    }
}

/// Switches the SDK off after `thrown` escaped SDK code, warns with it (its
/// stack has the wasm frames) and reports it to Sentry. Once: a guarded call
/// inside another (a getter of the app's that calls the SDK, say) can only
/// crash first. The warning and the report run guarded as well: the report
/// is SDK code, and the console is the page's (a `console.warn` that throws,
/// the first crash's likely cause then, must not reach the caller either); a
/// throw in either ends both.
fn crashed(thrown: &JsValue) {
    if DISABLED.swap(true, Ordering::Relaxed) {
        return;
    }
    crate::js::guard(&mut || {
        crate::js::warn_error("internal error, telemetry is off for this page:", thrown);
        if cfg!(feature = "sentry") {
            crate::sentry::report_crash(thrown);
        }
    });
}

/// `cell.borrow_mut()`, for the clients' state, panicking (a crash like any
/// other) when the state is in use already: a re-entrant call, a bug.
/// `RefCell::borrow_mut` passes its caller's location to its panic, which
/// keeps a file name per call site in the download even where panics abort
/// at once; a `panic!` there has no location to keep.
pub fn borrow<T>(cell: &RefCell<T>) -> RefMut<'_, T> {
    match cell.try_borrow_mut() {
        Ok(state) => state,
        Err(_) => panic!("telemetry state in use by a re-entrant call"),
    }
}
