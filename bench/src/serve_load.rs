//! A small load generator for `serve`: N keep-alive HTTP/1.1 connections, each sending one GET
//! at a time until the window closes (and never more than a fixed count).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;

use crate::stats::Samples;

/// What one window of load measured.
pub struct Load {
    pub rate: f64,
    pub samples: Samples,
}

/// At most this many requests per connection per window.
const MAX_PER_CONNECTION: usize = 1_000_000;

pub async fn run(
    address: SocketAddr,
    path: &str,
    token: &str,
    connections: usize,
    window: Duration,
) -> anyhow::Result<Load> {
    let start = Instant::now();
    let deadline = start + window;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (path, authorization) = (path.to_owned(), format!("Bearer {token}"));
        tasks.spawn(async move {
            let stream = tokio::net::TcpStream::connect(address).await?;
            stream.set_nodelay(true)?;
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            let driver = tokio::spawn(connection);
            let mut latencies = Vec::new();
            while latencies.len() < MAX_PER_CONNECTION && Instant::now() < deadline {
                sender.ready().await?;
                let request = http::Request::get(path.as_str())
                    .header(http::header::HOST, address.to_string())
                    .header(http::header::AUTHORIZATION, authorization.as_str())
                    .body(Empty::<Bytes>::new())?;
                let t = Instant::now();
                let response = sender.send_request(request).await?;
                let status = response.status();
                let body = response.into_body().collect().await?.to_bytes();
                latencies.push(t.elapsed());
                if status != http::StatusCode::OK || body.len() != 1024 {
                    anyhow::bail!("serve answered {status} with {} bytes", body.len());
                }
            }
            drop(sender);
            let _ = driver.await;
            anyhow::Ok(latencies)
        });
    }
    let mut all = Vec::new();
    while let Some(result) = tasks.join_next().await {
        all.extend(result??);
    }
    let rate = all.len() as f64 / start.elapsed().as_secs_f64();
    Ok(Load { rate, samples: Samples::new(all) })
}
