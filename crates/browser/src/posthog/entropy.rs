//! Where the PostHog client's randomness comes from.

/// A source of random bytes, drawn by the caller (`crypto.getRandomValues` in
/// the browser, a counter in tests).
pub trait Entropy {
    /// Ten fresh random bytes (the random part of a UUIDv7).
    fn draw(&mut self) -> [u8; 10];
}

impl<F: FnMut() -> [u8; 10]> Entropy for F {
    fn draw(&mut self) -> [u8; 10] {
        self()
    }
}
