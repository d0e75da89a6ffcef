//! Key-value persistence that never throws: `localStorage` when the browser
//! allows it, memory otherwise (or when asked to store nothing).

use std::cell::RefCell;

use crate::js::{self, WebError};

/// Where the SDK keeps what must survive a reload.
#[derive(Debug)]
pub enum Storage {
    /// The page's `localStorage`.
    Local,
    /// A map that lives as long as the client: nothing reaches the browser's storage.
    Memory(RefCell<Vec<(String, String)>>),
}

impl Storage {
    /// `localStorage` if it exists and accepts a write (it can be missing,
    /// blocked by privacy settings, or full), else memory.
    pub fn local_or_memory() -> Storage {
        if js::storage_works() {
            Storage::Local
        } else {
            Storage::memory()
        }
    }

    /// Memory only.
    pub fn memory() -> Storage {
        Storage::Memory(RefCell::new(Vec::new()))
    }

    /// The value under `key`, if any (read errors count as none).
    pub fn get(&self, key: &str) -> Option<String> {
        match self {
            Storage::Local => js::storage_get(key),
            Storage::Memory(m) => {
                for (k, v) in m.borrow().iter() {
                    if k == key {
                        return Some(v.clone());
                    }
                }
                None
            }
        }
    }

    /// Stores `value` under `key`; fails when the browser refuses (quota).
    pub fn set(&self, key: &str, value: &str) -> Result<(), WebError> {
        match self {
            Storage::Local => js::storage_set(key, value).map_or(Ok(()), |e| Err(WebError::Js(e))),
            Storage::Memory(m) => {
                self.remove(key);
                m.borrow_mut().push((key.to_owned(), value.to_owned()));
                Ok(())
            }
        }
    }

    /// Removes `key`, ignoring errors.
    pub fn remove(&self, key: &str) {
        match self {
            Storage::Local => js::storage_remove(key),
            Storage::Memory(m) => {
                let mut m = m.borrow_mut();
                if let Some(i) = m.iter().position(|(k, _)| k == key) {
                    m.swap_remove(i);
                }
            }
        }
    }
}
