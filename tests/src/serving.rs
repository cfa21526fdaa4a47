//! A `serve` instance for tests: bound on 127.0.0.1:0 with a known token, stopped on demand,
//! and a one-call client that sends the token.

use std::net::SocketAddr;

use s3_connector_host::serve::{ClientAuth, ServeLimits, Server};
use s3_connector_host::{Connector, Secret};
use tokio::sync::oneshot;

use crate::http_client::{self, bytes};

/// The token the test servers accept.
pub const TOKEN: &str = "serve-token-for-tests";

/// A running `serve` and the way to stop it.
pub struct Serving {
    /// Where it listens.
    pub address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<usize>,
}

impl Serving {
    /// Serves `connector` with the default limits.
    pub async fn start(connector: Connector) -> Self {
        Self::start_with(connector, ServeLimits::default()).await
    }

    /// Serves `connector` with `limits`.
    pub async fn start_with(connector: Connector, limits: ServeLimits) -> Self {
        let auth = ClientAuth::Bearer(Secret::new(TOKEN));
        let server = Server::bind("127.0.0.1:0".parse().expect("an address"), connector, auth)
            .await
            .expect("serve binds")
            .with_limits(limits);
        let address = server.local_addr().expect("a bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let done = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        Self { address, stop: Some(stop), done }
    }

    /// Asks it to stop accepting; requests in flight go on.
    pub fn request_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops it; returns how many requests were still running when the drain ended.
    pub async fn stop(mut self) -> usize {
        self.request_stop();
        (&mut self.done).await.expect("the server task ends")
    }

    /// One request with the token over a fresh connection: status and body as text.
    pub async fn call(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let auth = format!("Bearer {TOKEN}");
        let (status, body) = http_client::call(
            self.address,
            method,
            path,
            &[("authorization", &auth)],
            bytes(body.to_owned()),
        )
        .await
        .expect("serve answers");
        (status, String::from_utf8_lossy(&body).into_owned())
    }
}
