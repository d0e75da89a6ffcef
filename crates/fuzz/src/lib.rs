//! Fuzz targets for every parser of ff-telemetry that takes untrusted bytes,
//! and the small structured mutation fuzzer that drives them on the stable
//! toolchain (`cargo xtask fuzz --seconds N`; see the README's "Fuzzing").
//!
//! A target asserts more than "no panic" where it can: a value parsed writes
//! back and parses to itself, an encoding of a body changes nothing about the
//! collector's answer, the collector answers 2xx or 4xx (never 5xx) and still
//! serves after the run. Inputs start from real requests of posthog-js,
//! @sentry/browser and the `sentry` crate ([`seeds`]).
//!
//! ```no_run
//! use ff_telemetry_fuzz::engine::{Budget, fuzz};
//! for mut target in ff_telemetry_fuzz::targets::all().unwrap() {
//!     let report = fuzz(target.as_mut(), Budget::Execs(1_000), 1);
//!     assert!(report.passed(), "{report:?}");
//! }
//! ```

#![warn(missing_docs)]

pub mod collector;
pub mod engine;
pub mod mutate;
pub mod seeds;
pub mod targets;
