//! A `serve` instance for tests: bound on 127.0.0.1:0 with a known token (or a tenants file),
//! stopped on demand, and a one-call client that sends a token.

use std::net::SocketAddr;

use s3_connector_host::EdgeWorld;
use s3_connector_host::{Connector, Secret};
use s3_connector_serve::otlp_exporter::OtlpExporter;
use s3_connector_serve::{ClientAuth, ServeLimits, Server, Tenants};
use tokio::sync::oneshot;

use http_body_util::BodyExt;

use crate::http_client::{self, bytes};

/// The token the test servers accept.
pub const TOKEN: &str = "serve-token-for-tests";

/// A running `serve` and the way to stop it.
pub struct Serving {
    /// Where it listens.
    pub address: SocketAddr,
    /// Where its metrics are served, when asked for.
    pub metrics: Option<SocketAddr>,
    /// Its tenants (to reload them).
    pub tenants: Tenants,
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
        Self::run(Self::bind(connector).await.with_limits(limits), None)
    }

    /// Serves `connector` with `limits`, running `world`'s edge component (`serve --edge`).
    pub async fn start_edge(connector: Connector, world: EdgeWorld, limits: ServeLimits) -> Self {
        let server = Self::bind(connector).await.with_edge(world).expect("the edge component loads");
        Self::run(server.with_limits(limits), None)
    }

    /// Serves `connector` with the default limits, exporting spans with `exporter`.
    pub async fn start_exporting(connector: Connector, exporter: OtlpExporter) -> Self {
        Self::run(Self::bind(connector).await.with_span_export(exporter), None)
    }

    /// A server of `connector` on 127.0.0.1:0 that takes [`TOKEN`].
    async fn bind(connector: Connector) -> Server {
        let auth = ClientAuth::Bearer(Secret::new(TOKEN));
        Server::bind("127.0.0.1:0".parse().expect("an address"), connector, auth).await.expect("serve binds")
    }

    /// Serves `tenants`, with a metrics listener.
    pub async fn start_tenants(tenants: Tenants) -> Self {
        let server = Server::bind_tenants("127.0.0.1:0".parse().expect("an address"), tenants)
            .await
            .expect("serve binds");
        let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("the metrics listener binds");
        let metrics_address = metrics.local_addr().expect("a bound address");
        Self::run(server.with_metrics_listener(metrics), Some(metrics_address))
    }

    fn run(server: Server, metrics: Option<SocketAddr>) -> Self {
        let address = server.local_addr().expect("a bound address");
        let tenants = server.tenants().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let done = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        Self { address, metrics, tenants, stop: Some(stop), done }
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
        let (status, _, body) = self.call_as(TOKEN, method, path, body).await;
        (status, body)
    }

    /// One request with `token` over a fresh connection: status, answer headers, body as text.
    pub async fn call_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: &str,
    ) -> (u16, http::HeaderMap, String) {
        let auth = format!("Bearer {token}");
        let response = http_client::send(
            self.address,
            method,
            path,
            &[("authorization", &auth)],
            bytes(body.to_owned()),
        )
        .await
        .expect("serve answers");
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        let body = response.into_body().collect().await.expect("the answer's body").to_bytes();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    /// The metrics text, scraped as Prometheus would.
    pub async fn scrape(&self) -> String {
        let address = self.metrics.expect("a server started with a metrics listener");
        let (status, body) =
            http_client::call(address, "GET", "/metrics", &[], bytes("")).await.expect("the metrics answer");
        assert_eq!(status, 200);
        String::from_utf8(body.to_vec()).expect("the metrics are text")
    }
}
