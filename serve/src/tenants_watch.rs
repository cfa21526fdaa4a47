//! When the tenants file is read again: on SIGHUP, and when its content changes. The content is
//! compared (its SHA-256, checked every [`POLL`]) rather than its modification time, because a
//! Kubernetes Secret is updated by swapping a symbolic link, which a watch on the file itself
//! misses and which may keep the old time.

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::tenants::Tenants;

/// How often the file's content is compared.
pub const POLL: Duration = Duration::from_secs(1);

/// The file's content hash, or `None` when it cannot be read now (a swap in progress).
fn fingerprint(tenants: &Tenants) -> Option<[u8; 32]> {
    let path = tenants.path()?;
    std::fs::read(path).ok().map(|bytes| Sha256::digest(bytes).into())
}

/// Reloads `tenants` on SIGHUP and on a change of the file, until `shutdown` completes.
/// A refused file is logged with its line; the table in force stays.
pub async fn watch(tenants: Tenants, shutdown: impl Future<Output = ()>) {
    if tenants.path().is_none() {
        return;
    }
    tokio::pin!(shutdown);
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut seen = fingerprint(&tenants);
    let mut ticks = tokio::time::interval(POLL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let why = tokio::select! {
            () = &mut shutdown => return,
            () = next_hangup(&mut hangup) => "SIGHUP",
            _ = ticks.tick() => {
                let now = fingerprint(&tenants);
                if now.is_none() || now == seen {
                    continue;
                }
                "a change of the file"
            }
        };
        seen = fingerprint(&tenants);
        match tenants.reload() {
            Ok(count) => tracing::info!(reason = why, tenants = count, "tenants file reloaded"),
            Err(error) => {
                tracing::error!(reason = why, %error, "tenants file refused; the rules in force stay")
            }
        }
    }
}

/// Completes at the next SIGHUP; never, when none can be received.
async fn next_hangup(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(stream) => {
            if stream.recv().await.is_none() {
                *signal = None;
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}
