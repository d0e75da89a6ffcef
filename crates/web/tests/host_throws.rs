//! The host's own code throwing inside an SDK call: here a `console.warn`
//! that throws, as apps do whose tests treat warnings as errors. In a file
//! of its own: the throw switches the SDK off for the rest of the page.

#![cfg(target_arch = "wasm32")]

use ff_telemetry_web::init;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/js/host_throws.js")]
extern "C" {
    /// Runs `f` with a `console.warn` that throws: whether `f` threw.
    #[wasm_bindgen(js_name = throwsWithThrowingWarn)]
    fn throws_with_throwing_warn(f: &mut dyn FnMut()) -> bool;
}

#[wasm_bindgen_test]
fn init_does_not_throw_when_the_console_does() {
    // Without PostHog settings `init` warns; the warning throws, which
    // switches the SDK off, and the SDK's own warning about that throws too.
    let threw = throws_with_throwing_warn(&mut || {
        let config = JsValue::from(js_sys::Object::new());
        drop(init(Some(config)));
    });
    assert!(!threw, "init() threw into the page");
}
