//! `s3-connector serve`: runs the server until SIGINT or SIGTERM, then drains.

use std::net::SocketAddr;
use std::path::PathBuf;

use s3_connector_host::EdgeWorld;
use s3_connector_host::connector::Connector;
use s3_connector_host::credentials::Secret;
use s3_connector_host::error::Error;
use s3_connector_serve::otlp_exporter::{OtlpConfig, OtlpExporter};
use s3_connector_serve::{ClientAuth, ServeLimits, ServeTls, Server, Tenants, metrics};

/// How `serve` listens: the address, the client token, TLS and the metrics.
pub struct Listen {
    /// The address.
    pub address: SocketAddr,
    /// `--token`.
    pub token: Option<String>,
    /// `--insecure-no-auth`.
    pub insecure_no_auth: bool,
    /// `--tls-cert` and `--tls-key`.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// `--insecure-plaintext`.
    pub insecure_plaintext: bool,
    /// `--metrics-listen`.
    pub metrics: Option<SocketAddr>,
    /// `--max-connections`, `--max-connections-per-tenant`, `--body-read-timeout`.
    pub limits: ServeLimits,
    /// `--edge`: the WASI 0.2 edge component (default) or the WASI 0.3 one.
    pub edge: EdgeWorld,
}

/// Whom `serve` serves: one connector (`--token`, `--insecure-no-auth`) or a tenants file.
pub enum Served {
    /// The command line's connector, one tenant.
    One(Box<Connector>),
    /// `--tenants FILE`.
    Tenants(Tenants),
}

/// Installs the log subscriber: RUST_LOG filters (default `info`), lines on stderr as text or
/// JSON. Only `serve` logs; a second call (tests) keeps the first subscriber.
pub fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).try_init()
    };
}

/// Serves as `listen` says until a signal.
pub async fn run(served: Served, listen: Listen) -> Result<(), Error> {
    let address = listen.address;
    let tenants = match served {
        Served::Tenants(tenants) => tenants,
        Served::One(connector) => {
            let connector = *connector;
            let auth = ClientAuth::choose(listen.token.map(Secret::new), listen.insecure_no_auth, address)
                .map_err(|e| Error::Usage(e.to_string()))?;
            Tenants::single(connector, &auth)
        }
    };
    let tls = listen.tls.map(|(cert, key)| ServeTls::from_pem_files(&cert, &key)).transpose();
    let tls =
        ServeTls::choose(tls.map_err(|e| Error::Usage(e.to_string()))?, listen.insecure_plaintext, address)
            .map_err(|e| Error::Usage(e.to_string()))?;
    let mut server = Server::bind_tenants(address, tenants)
        .await?
        .with_edge(listen.edge)?
        .with_tls(tls)
        .with_limits(listen.limits);
    if let Some(metrics_address) = listen.metrics {
        let listener = metrics::bind(metrics_address).await?;
        let bound = listener.local_addr().map_err(|e| Error::local_io("the listener has no address", e))?;
        tracing::info!("metrics on http://{bound}/metrics");
        server = server.with_metrics_listener(listener);
    }
    let spans =
        OtlpConfig::from_lookup(&|name| std::env::var(name).ok()).map_err(|e| Error::Usage(e.to_string()))?;
    if let Some(config) = spans {
        tracing::info!(
            "exporting spans to {} (OTLP/HTTP, JSON)",
            s3_connector_host::secrets::redact::uri(&config.endpoint)
        );
        server = server.with_span_export(OtlpExporter::start(config));
    }
    let scheme = if server.is_tls() { "https" } else { "http" };
    let names: Vec<String> = server.tenants().current().tenants().iter().map(|t| t.name.clone()).collect();
    // Through the log, as every line serve writes, so that --log-format json holds for all.
    tracing::info!("serving on {scheme}://{} for tenants {}", server.local_addr()?, names.join(", "));
    let left = server.run(signal()).await;
    if left > 0 {
        return Err(Error::local(format!("{left} requests were still running when the drain timed out")));
    }
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let term = async {
        match terminate.as_mut() {
            Some(stream) => {
                stream.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}
