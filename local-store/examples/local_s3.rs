//! A throwaway local S3 server for scripts: the embedded store (`LocalS3`) in a temporary
//! directory, so that a shell script can run the edge component under another wasi:http host
//! (`tests/wasmtime_serve.sh` runs it under `wasmtime serve`) against S3 without an account.
//!
//! It accepts one key pair, from S3_CONNECTOR_LOCAL_ACCESS_KEY_ID and
//! S3_CONNECTOR_LOCAL_SECRET_ACCESS_KEY (default: a fixed dev pair), prints one line
//! `endpoint=http://127.0.0.1:PORT` on stdout, then serves until its stdin reaches EOF or
//! 600 s have passed, and exits, deleting the directory.
//!
//! Run it with `cargo run -p s3-connector-local-store --example local_s3`.

use std::io::Write;
use std::time::Duration;

use s3_connector_host::Secret;
use s3_connector_local_store::LocalS3;

/// The longest it serves, so that a forgotten server does not outlive its script for long.
const MAX_LIFETIME: Duration = Duration::from_secs(600);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env_or = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let access_key_id = env_or("S3_CONNECTOR_LOCAL_ACCESS_KEY_ID", "AKLOCALDEV");
    let secret = env_or("S3_CONNECTOR_LOCAL_SECRET_ACCESS_KEY", "local-dev-secret");

    // Declared before the store, so dropped after it: the server stops, then the files go.
    let dir = tempfile::tempdir()?;
    let store = LocalS3::start(dir.path(), &access_key_id, Secret::new(secret)).await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "endpoint={}", store.endpoint())?;
    stdout.flush()?;

    // A plain thread, not tokio's stdin: a read still blocked at exit would keep the runtime
    // from shutting down when the time limit ends the wait instead.
    let (eof, stdin_closed) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = eof.send(());
    });
    if tokio::time::timeout(MAX_LIFETIME, stdin_closed).await.is_err() {
        eprintln!("local_s3: {} s passed, stopping", MAX_LIFETIME.as_secs());
    }
    drop(store);
    Ok(())
}
