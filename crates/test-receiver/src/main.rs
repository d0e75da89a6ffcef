//! `ff-test-receiver [port]`: serves the receiver on 127.0.0.1 (a free port by
//! default) and prints `listening on http://127.0.0.1:PORT` once it accepts.

#![allow(clippy::print_stdout)] // The URL on stdout is the interface to xtask.

use std::io::Write;

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port: u16 = match std::env::args().nth(1) {
        Some(p) => p.parse().context("port must be a number")?,
        None => 0,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .context("cannot bind 127.0.0.1")?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    axum::serve(
        listener,
        ff_test_receiver::router(ff_test_receiver::AppState::default()),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
