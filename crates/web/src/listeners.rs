//! Window event listeners owned by a client, removed together when it goes.

use wasm_bindgen::prelude::*;

use crate::js;

/// The `window` listeners one client added. JavaScript keeps them (a list
/// the snippets made) and frees each callback once it is removed, so Rust
/// holds no closures and needs no code to drop them.
#[derive(Debug)]
pub struct Listeners(JsValue);

impl Listeners {
    /// No listeners yet.
    pub fn new() -> Self {
        Listeners(js::listener_group())
    }

    /// Adds a passive listener for `name` on `window`; `on_event` gets the
    /// event and runs guarded (see [`crate::panic::guarded`]).
    pub fn add(&self, name: &str, mut on_event: impl FnMut(&JsValue) + 'static) {
        let listener = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            crate::panic::guarded(|| on_event(&event));
        });
        self.add_closure(name, listener);
    }

    /// Adds `listener` (which guards itself) for `name` on `window`.
    pub fn add_closure(&self, name: &str, listener: Closure<dyn FnMut(JsValue)>) {
        js::listen(&self.0, name, listener.into_js_value());
    }

    /// Removes every listener added.
    pub fn remove_all(&self) {
        js::unlisten(&self.0);
    }
}
