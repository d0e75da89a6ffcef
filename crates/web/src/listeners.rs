//! Window event listeners owned by a client, removed together when it goes.

use std::cell::RefCell;

use js_sys::Function;
use wasm_bindgen::prelude::*;

use crate::js::{self, Callback};

/// The `window` listeners one client added, each as the JavaScript function
/// the browser holds: the browser's garbage collector frees each callback
/// once it is removed, so Rust drops no closures.
#[derive(Debug, Default)]
pub struct Listeners(RefCell<Vec<(&'static str, Function)>>);

impl Listeners {
    /// Adds a passive listener for `name` on `window`; `on_event` gets the
    /// event and runs guarded (see [`crate::panic::guarded`]).
    pub fn add(&self, name: &'static str, mut on_event: impl FnMut(&JsValue) + 'static) {
        let listener = Callback::new(move |event: JsValue| {
            crate::panic::guarded(|| on_event(&event));
        });
        self.add_function(name, listener.into_js_value().unchecked_into());
    }

    /// Adds `listener` (a function that guards itself) for `name` on `window`.
    pub fn add_function(&self, name: &'static str, listener: Function) {
        js::listen(name, &listener);
        self.0.borrow_mut().push((name, listener));
    }

    /// Removes every listener added.
    pub fn remove_all(&self) {
        for (name, listener) in self.0.take() {
            js::unlisten(name, &listener);
        }
    }
}
