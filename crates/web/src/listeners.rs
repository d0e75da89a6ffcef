//! Window event listeners owned by a client, removed together when it goes.

use wasm_bindgen::prelude::*;

use crate::js;

/// The `window` listeners one client added.
#[derive(Default)]
pub struct Listeners(Vec<Listener>);

/// One listener: event name and callback.
type Listener = (&'static str, Closure<dyn FnMut(JsValue)>);

impl std::fmt::Debug for Listeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(n, _)| n))
            .finish()
    }
}

impl Listeners {
    /// Adds a passive listener for `name` on `window`; `on_event` gets the
    /// event and runs guarded (see [`crate::panic::guarded`]).
    pub fn add(&mut self, name: &'static str, mut on_event: impl FnMut(&JsValue) + 'static) {
        let listener = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            crate::panic::guarded(|| on_event(&event));
        });
        self.add_closure(name, listener);
    }

    /// Adds `listener` (which guards itself) for `name` on `window`.
    pub fn add_closure(&mut self, name: &'static str, listener: Closure<dyn FnMut(JsValue)>) {
        js::listen(name, listener.as_ref());
        self.0.push((name, listener));
    }

    /// Removes every listener added.
    pub fn remove_all(&mut self) {
        for (name, listener) in std::mem::take(&mut self.0) {
            js::remove_event_listener(name, listener.as_ref());
        }
    }
}
