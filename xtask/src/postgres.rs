//! A throwaway PostgreSQL cluster for the test suites that run on Postgres too.
//!
//! Tests read its URL from `FF_TEST_POSTGRES_URL`; when the variable is unset they
//! print a skip line, so `cargo test` alone still works on a machine without it.

pub use ff_throwaway_postgres::Throwaway;

/// The environment variable test suites read the server URL from.
pub const URL_VAR: &str = "FF_TEST_POSTGRES_URL";
/// Set (never by CI) to run the suites without their Postgres half.
pub const SKIP_VAR: &str = "FF_TELEMETRY_SKIP_POSTGRES";

/// Starts a cluster, or says why not and returns `None`.
pub fn start() -> Option<Throwaway> {
    match Throwaway::start() {
        Ok(pg) => {
            println!("ok   throwaway PostgreSQL at {}", pg.url());
            Some(pg)
        }
        Err(e) => {
            println!("PostgreSQL: {e}");
            None
        }
    }
}
