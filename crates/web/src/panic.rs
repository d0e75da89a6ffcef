//! A Rust panic must not break the page: it is logged once and switches the
//! SDK off; the trap it causes is caught by [`crate::js::guard`].

use std::sync::atomic::{AtomicBool, Ordering};

static DISABLED: AtomicBool = AtomicBool::new(false);

/// Installs the panic hook (idempotent in effect).
pub fn install_hook() {
    std::panic::set_hook(Box::new(|info| {
        DISABLED.store(true, Ordering::Relaxed);
        // The payload and place only: formatting the whole `PanicHookInfo`
        // would pull every formatter into the build.
        let message = info.payload_as_str().unwrap_or("panic");
        let line = info.location().map_or(0, |l| l.line());
        crate::js::warn(&format!(
            "panic, telemetry is off for this page: {message} (line {line})"
        ));
    }));
}

/// Whether a panic switched the SDK off.
pub fn is_disabled() -> bool {
    DISABLED.load(Ordering::Relaxed)
}

/// Runs `f` unless the SDK is off, inside a JavaScript `try`, so neither an
/// exception nor a trap reaches the caller.
pub fn guarded(mut f: impl FnMut()) {
    if is_disabled() {
        return;
    }
    crate::js::guard(&mut || {
        if !is_disabled() {
            f();
        }
    });
}
