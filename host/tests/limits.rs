//! Limits the host puts on a call.

mod common;

use std::time::{Duration, Instant};

use s3_connector_host::types::S3Error;
use s3_connector_host::{Error, Secret};

/// A server that accepts connections and never answers: the call is stopped at its timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_hangs_is_stopped_at_the_wall_clock_timeout() {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        // Bounded: the test makes one call.
        for _ in 0..4 {
            if let Ok((socket, _)) = listener.accept().await {
                sockets.push(socket);
            }
        }
    });
    let connector = common::connector_at(&endpoint, "AKLIMITS00000000001", &Secret::new("limits"), &[])
        .with_call_timeout(Duration::from_millis(500));
    let started = Instant::now();
    let error = connector.head_object("silent", "k").await.unwrap_err();
    assert!(matches!(error, Error::S3(S3Error::Timeout)), "{error:?}");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(10), "{elapsed:?}");
    held.abort();
}
