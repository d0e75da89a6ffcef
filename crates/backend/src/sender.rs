//! POSTing one ping with a timeout and bounded, jittered retries.

use std::time::Duration;

use ff_telemetry_core::retry::{AttemptOutcome, RetryDecision, RetryPolicy};
use ff_telemetry_wire::HttpUrl;

use crate::clock::Clock;

/// How long one attempt may take by default, connection included.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why no HTTP client could be built (a broken TLS setup).
#[derive(Debug, thiserror::Error)]
#[error("could not build the HTTP client: {0}")]
pub struct ClientError(#[from] reqwest::Error);

/// How a send ended, after every attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendReport {
    /// Attempts made, the first included.
    pub n_attempts: u32,
    /// The last attempt's outcome.
    pub last: AttemptOutcome,
    /// Whether the collector accepted the ping.
    pub delivered: bool,
}

/// Sends usage pings to `telemetry.url`.
#[derive(Debug, Clone)]
pub struct PingSender {
    client: reqwest::Client,
    url: String,
    retry: RetryPolicy,
}

/// Installs rustls' ring provider as the process default. reqwest and the Sentry
/// transport both build their TLS config from it; installing twice is harmless.
pub(crate) fn install_crypto_provider() {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
}

impl PingSender {
    /// A sender POSTing to `url`, retrying as `retry` says, each attempt given up
    /// after `attempt_timeout` (connecting, sending and reading the answer included;
    /// production uses [`ATTEMPT_TIMEOUT`]).
    ///
    /// ```
    /// use ff_telemetry_backend::{ATTEMPT_TIMEOUT, PingSender};
    /// use ff_telemetry_wire::HttpUrl;
    /// use ff_telemetry_core::retry::RetryPolicy;
    /// let url: HttpUrl = "https://ping.example.com/ping".parse().unwrap();
    /// let sender = PingSender::new(&url, RetryPolicy::default(), ATTEMPT_TIMEOUT);
    /// assert!(sender.is_ok());
    /// ```
    pub fn new(
        url: &HttpUrl,
        retry: RetryPolicy,
        attempt_timeout: Duration,
    ) -> Result<Self, ClientError> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(attempt_timeout)
            .user_agent(concat!("ff-telemetry/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(PingSender {
            client,
            url: url.to_string(),
            retry,
        })
    }

    /// POSTs `body` (JSON) until it is delivered, refused, or the retries run out,
    /// waiting between attempts on `clock`. Every attempt is logged.
    pub async fn send(&self, body: &str, clock: &dyn Clock) -> SendReport {
        let mut attempt_idx = 0;
        loop {
            let outcome = self.attempt(body).await;
            match self.retry.decide(attempt_idx, outcome, rand::random()) {
                RetryDecision::Delivered => {
                    return self.report(attempt_idx, outcome, true);
                }
                RetryDecision::GiveUp => {
                    return self.report(attempt_idx, outcome, false);
                }
                RetryDecision::RetryAfterMs(delay_ms) => {
                    tracing::info!(
                        url = %self.url,
                        attempt = attempt_idx + 1,
                        ?outcome,
                        delay_ms,
                        "usage ping attempt failed; retrying"
                    );
                    clock.sleep_until(clock.now() + delay_ms).await;
                    attempt_idx += 1;
                }
            }
        }
    }

    fn report(&self, attempt_idx: u32, last: AttemptOutcome, delivered: bool) -> SendReport {
        SendReport {
            n_attempts: attempt_idx + 1,
            last,
            delivered,
        }
    }

    async fn attempt(&self, body: &str) -> AttemptOutcome {
        let response = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned())
            .send()
            .await;
        match response {
            Ok(response) => AttemptOutcome::Status(response.status().as_u16()),
            Err(e) => {
                tracing::debug!(url = %self.url, "usage ping: {e}");
                AttemptOutcome::NetworkError
            }
        }
    }
}
