//! The fuzzing loop: seeds, stacked byte-, token- and JSON-level mutations, and
//! behavioural feedback (an input that makes a target answer in a way not seen
//! before joins the corpus), on the stable toolchain with no instrumentation.

use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::mutate::{Mutator, Rng};

/// One parser under test.
pub trait Target {
    /// Short name, as `cargo xtask fuzz` prints it.
    fn name(&self) -> &'static str;
    /// Real inputs to start from.
    fn seeds(&self) -> Vec<Vec<u8>>;
    /// Tokens worth inserting (field names, magic values).
    fn dictionary(&self) -> &'static [&'static str] {
        &[]
    }
    /// Runs one input. `Ok` carries a short description of how the parser
    /// answered (its feedback signature); `Err` says which property failed.
    fn run(&mut self, input: &[u8]) -> Result<String, String>;
    /// After the run: whether the system under test still works (for the
    /// collector: it still answers and stores).
    fn still_working(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// An input that broke a target.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The input.
    pub input: Vec<u8>,
    /// The property that failed, or the panic's message.
    pub message: String,
}

/// What one target's run did.
#[derive(Debug)]
pub struct Report {
    /// The target's name.
    pub name: &'static str,
    /// Inputs run.
    pub execs: u64,
    /// Distinct behaviours seen (corpus size).
    pub behaviours: usize,
    /// Inputs that failed a property or panicked (distinct messages only).
    pub failures: Vec<Failure>,
    /// [`Target::still_working`] after the run.
    pub still_working: Result<(), String>,
}

impl Report {
    /// No failure and the target still works.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.still_working.is_ok()
    }
}

/// Most inputs kept; later behaviours replace random old ones.
const MAX_CORPUS: usize = 2_048;
/// Distinct failures kept per target.
const MAX_FAILURES: usize = 20;

/// How long a run lasts (the seeds always run, whatever the budget).
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// Wall-clock time.
    Time(Duration),
    /// A number of inputs: the same seed then gives the same run.
    Execs(u64),
}

impl Budget {
    fn spent(self, started: Instant, execs: u64) -> bool {
        match self {
            Budget::Time(limit) => started.elapsed() >= limit,
            Budget::Execs(limit) => execs >= limit,
        }
    }
}

/// Runs `target` for `budget` from `seed` (the same seed replays the same
/// inputs, as far as the target is deterministic).
pub fn fuzz(target: &mut dyn Target, budget: Budget, seed: u64) -> Report {
    let started = Instant::now();
    let mut rng = Rng::new(seed);
    let mutator = Mutator::new(target.dictionary());
    let mut corpus: Vec<Vec<u8>> = Vec::new();
    let mut seen = HashSet::new();
    let mut failures: Vec<Failure> = Vec::new();
    let mut execs = 0u64;
    let mut pending_seeds = target.seeds();
    pending_seeds.reverse();
    while !budget.spent(started, execs) || !pending_seeds.is_empty() {
        let input = match pending_seeds.pop() {
            Some(seed) => seed,
            None if corpus.is_empty() => Vec::new(),
            None => {
                let parent = &corpus[rng.below(corpus.len())];
                mutator.mutate(parent, &corpus, &mut rng)
            }
        };
        execs += 1;
        match run_caught(target, &input) {
            Ok(signature) => {
                if seen.insert(signature) {
                    if corpus.len() < MAX_CORPUS {
                        corpus.push(input);
                    } else {
                        let idx = rng.below(corpus.len());
                        corpus[idx] = input;
                    }
                }
            }
            Err(message) => {
                let known = failures.iter().any(|f| f.message == message);
                if !known && failures.len() < MAX_FAILURES {
                    failures.push(Failure { input, message });
                }
            }
        }
    }
    Report {
        name: target.name(),
        execs,
        behaviours: seen.len(),
        failures,
        still_working: target.still_working(),
    }
}

/// [`Target::run`], with a panic turned into an `Err` naming it.
fn run_caught(target: &mut dyn Target, input: &[u8]) -> Result<String, String> {
    match panic::catch_unwind(AssertUnwindSafe(|| target.run(input))) {
        Ok(res) => res,
        Err(payload) => {
            let what = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a panic".to_owned());
            Err(format!("panicked: {what}"))
        }
    }
}

/// An error message as a feedback signature: numbers and quoted text vary with
/// the input, so they are blanked, and the length is capped.
pub fn shape(message: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in message.chars() {
        if c == '"' || c == '`' {
            quoted = !quoted;
            out.push(c);
        } else if !quoted {
            let digit = c.is_ascii_digit();
            if !(digit && out.ends_with('#')) {
                out.push(if digit { '#' } else { c });
            }
        }
        if out.len() >= 96 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parser with a bug two mutations away from its seed.
    struct Buggy;

    impl Target for Buggy {
        fn name(&self) -> &'static str {
            "buggy"
        }
        fn seeds(&self) -> Vec<Vec<u8>> {
            vec![b"{\"a\":1}".to_vec()]
        }
        fn run(&mut self, input: &[u8]) -> Result<String, String> {
            let Ok(value) = serde_json::from_slice::<serde_json::Value>(input) else {
                return Ok("not json".into());
            };
            if value.get("a").is_some_and(|a| a.is_string()) {
                panic!("a is a string");
            }
            Ok("ok".into())
        }
    }

    #[test]
    fn a_panic_is_found_and_reported_with_its_input() {
        let mut target = Buggy;
        let previous = panic::take_hook();
        panic::set_hook(Box::new(|_| {}));
        let report = fuzz(&mut target, Budget::Execs(20_000), 7);
        panic::set_hook(previous);
        let failure = report.failures.first().expect("the fuzzer found no panic");
        assert_eq!(failure.message, "panicked: a is a string");
        let value: serde_json::Value = serde_json::from_slice(&failure.input).unwrap();
        assert!(value["a"].is_string(), "{value}");
    }

    #[test]
    fn shapes_ignore_numbers_and_quoted_text() {
        assert_eq!(
            shape("expected `,` at line 1 column 37, found \"x\""),
            shape("expected `,` at line 3 column 2, found \"yy\"")
        );
    }
}
