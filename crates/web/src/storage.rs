//! Key-value persistence that never throws: `localStorage` when the browser
//! allows it, memory otherwise (or when asked to store nothing).

use std::cell::RefCell;

use crate::js::{WebError, from_js};

/// Where the SDK keeps what must survive a reload.
#[derive(Debug)]
pub enum Storage {
    /// The page's `localStorage`.
    Local(web_sys::Storage),
    /// A map that lives as long as the client: nothing reaches the browser's storage.
    Memory(RefCell<Vec<(String, String)>>),
}

impl Storage {
    /// `localStorage` if it exists and accepts a write (it can be missing,
    /// blocked by privacy settings, or full), else memory.
    pub fn local_or_memory() -> Storage {
        let local = web_sys::window()
            .and_then(|w| w.local_storage().ok().flatten())
            .filter(|s| {
                let probe = "ff_telemetry_probe";
                let ok = s.set_item(probe, "1").is_ok();
                let _ = s.remove_item(probe);
                ok
            });
        match local {
            Some(s) => Storage::Local(s),
            None => Storage::memory(),
        }
    }

    /// Memory only.
    pub fn memory() -> Storage {
        Storage::Memory(RefCell::new(Vec::new()))
    }

    /// The value under `key`, if any (read errors count as none).
    pub fn get(&self, key: &str) -> Option<String> {
        match self {
            Storage::Local(s) => s.get_item(key).ok().flatten(),
            Storage::Memory(m) => m
                .borrow()
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone()),
        }
    }

    /// Stores `value` under `key`; fails when the browser refuses (quota).
    pub fn set(&self, key: &str, value: &str) -> Result<(), WebError> {
        match self {
            Storage::Local(s) => s.set_item(key, value).map_err(from_js),
            Storage::Memory(m) => {
                let mut m = m.borrow_mut();
                match m.iter_mut().find(|(k, _)| k == key) {
                    Some((_, v)) => *v = value.to_owned(),
                    None => m.push((key.to_owned(), value.to_owned())),
                }
                Ok(())
            }
        }
    }

    /// Removes `key`, ignoring errors.
    pub fn remove(&self, key: &str) {
        match self {
            Storage::Local(s) => {
                let _ = s.remove_item(key);
            }
            Storage::Memory(m) => m.borrow_mut().retain(|(k, _)| k != key),
        }
    }
}
