//! Window event listeners owned by a client, removed together when it goes.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

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
        let Some(window) = web_sys::window() else {
            return;
        };
        let listener = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            crate::panic::guarded(|| on_event(&event));
        });
        let options = web_sys::AddEventListenerOptions::new();
        options.set_passive(true);
        let added = window.add_event_listener_with_callback_and_add_event_listener_options(
            name,
            listener.as_ref().unchecked_ref(),
            &options,
        );
        if added.is_ok() {
            self.0.push((name, listener));
        }
    }

    /// Removes every listener added.
    pub fn remove_all(&mut self) {
        if let Some(window) = web_sys::window() {
            for (name, listener) in self.0.drain(..) {
                let _ = window
                    .remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
            }
        }
    }
}
