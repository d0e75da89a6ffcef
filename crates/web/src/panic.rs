//! A Rust panic must not break the page: it is reported to Sentry (when
//! configured), logged once, and switches the SDK off; the trap it causes is
//! caught by [`crate::js::guard`].

use std::cell::{RefCell, RefMut};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use ff_telemetry_core::text::concat;

static DISABLED: AtomicBool = AtomicBool::new(false);
/// Whether the hook is installed: a flag rather than a `Once`, whose
/// synchronisation (for threads the page does not have) costs more code.
static HOOK_INSTALLED: AtomicBool = AtomicBool::new(false);

/// How deep the current call is inside SDK code, so a panic elsewhere in the
/// same module (a test harness, say) does not switch the SDK off. A static
/// rather than a thread-local: the SDK runs on the page's one thread, and a
/// thread-local's accessors would be inlined into every guarded call.
static DEPTH: AtomicU32 = AtomicU32::new(0);

/// Installs the panic hook once.
///
/// It replaces the default hook rather than chaining to it: the default hook
/// (thread names, backtraces) would cost more than the rest of this module,
/// and in the browser build every panic is the SDK's own.
pub fn install_hook() {
    if HOOK_INSTALLED.swap(true, Ordering::Relaxed) {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        // The payload and line only: formatting the whole `PanicHookInfo`
        // would pull every formatter into the build.
        let message = info.payload_as_str().unwrap_or("panic");
        let line = info.location().map_or(0, |l| l.line());
        let what = if DEPTH.load(Ordering::Relaxed) > 0 {
            if cfg!(feature = "sentry") {
                crate::sentry::report_panic(message);
            }
            DISABLED.store(true, Ordering::Relaxed);
            "panic, telemetry is off for this page: "
        } else {
            "panic outside telemetry: "
        };
        crate::js::warn_line(&concat(&[what, message]), line.into());
    }));
}

/// Whether a panic switched the SDK off.
pub fn is_disabled() -> bool {
    DISABLED.load(Ordering::Relaxed)
}

/// Runs `f` as SDK code unless the SDK is off. A panic in it switches the SDK
/// off; the trap that follows is caught (when `f` is called from JavaScript,
/// via [`guarded`]) or ends the current task.
pub fn sdk<R>(f: impl FnOnce() -> R) -> Option<R> {
    if is_disabled() {
        return None;
    }
    DEPTH.fetch_add(1, Ordering::Relaxed);
    let res = f();
    DEPTH.fetch_sub(1, Ordering::Relaxed);
    Some(res)
}

/// Runs `f` unless the SDK is off, inside a JavaScript `try`, so neither an
/// exception nor a trap reaches the caller.
pub fn guarded(mut f: impl FnMut()) {
    guarded_dyn(&mut f);
}

/// [`guarded`] through `dyn`: one copy of the guard for every caller.
fn guarded_dyn(f: &mut dyn FnMut()) {
    if is_disabled() {
        return;
    }
    // A trap skips `sdk`'s decrement: the depth is put back here, so a later
    // panic is not taken for one inside the SDK.
    let depth = DEPTH.load(Ordering::Relaxed);
    crate::js::guard(&mut || {
        sdk(&mut *f);
    });
    DEPTH.store(depth, Ordering::Relaxed);
}

/// `cell.borrow_mut()`, for the clients' state, with a panic message of its
/// own when the state is in use already (a re-entrant call: a bug, reported
/// and switching the SDK off like any panic). `RefCell::borrow_mut`'s own
/// panic formats its error, which keeps Rust's padding formatter (about
/// 1.5 KB) in the build.
pub fn borrow<T>(cell: &RefCell<T>) -> RefMut<'_, T> {
    match cell.try_borrow_mut() {
        Ok(state) => state,
        Err(_) => panic!("telemetry state in use by a re-entrant call"),
    }
}
