//! `s3-connector serve`: runs the server until SIGINT or SIGTERM, then drains.

use std::net::SocketAddr;

use crate::connector::Connector;
use crate::credentials::Secret;
use crate::error::Error;
use crate::serve::{ClientAuth, Server};

/// Serves on `listen` until a signal.
pub async fn run(
    connector: Connector,
    listen: SocketAddr,
    token: Option<String>,
    insecure_no_auth: bool,
) -> Result<(), Error> {
    let auth = ClientAuth::choose(token.map(Secret::new), insecure_no_auth, listen).map_err(Error::Usage)?;
    let server = Server::bind(listen, connector, auth).await?;
    eprintln!("s3-connector: serving on http://{}", server.local_addr()?);
    let left = server.run(signal()).await;
    if left > 0 {
        return Err(Error::Local(format!("{left} requests were still running when the drain timed out")));
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
