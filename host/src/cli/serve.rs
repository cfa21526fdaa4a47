//! `s3-connector serve`: runs the server until SIGINT or SIGTERM, then drains.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::connector::Connector;
use crate::credentials::Secret;
use crate::error::Error;
use crate::serve::{ClientAuth, ServeTls, Server};

/// How `serve` listens: the address, the client token, and TLS.
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
}

/// Serves as `listen` says until a signal.
pub async fn run(connector: Connector, listen: Listen) -> Result<(), Error> {
    let address = listen.address;
    let auth = ClientAuth::choose(listen.token.map(Secret::new), listen.insecure_no_auth, address)
        .map_err(Error::Usage)?;
    let tls = listen.tls.map(|(cert, key)| ServeTls::from_pem_files(&cert, &key)).transpose();
    let tls =
        ServeTls::choose(tls.map_err(|e| Error::Usage(e.to_string()))?, listen.insecure_plaintext, address)
            .map_err(|e| Error::Usage(e.to_string()))?;
    let server = Server::bind(address, connector, auth).await?.with_tls(tls);
    let scheme = if server.is_tls() { "https" } else { "http" };
    eprintln!("s3-connector: serving on {scheme}://{}", server.local_addr()?);
    let left = server.run(signal()).await;
    if left > 0 {
        return Err(Error::local(format!("{left} requests were still running when the drain timed out")));
    }
    eprintln!("s3-connector: stopped");
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
