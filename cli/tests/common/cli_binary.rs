//! The `s3-connector` binary run as a user runs it, for test files other than `cli.rs` (whose
//! own helpers are private to it): a clean environment (no developer keys, no IMDS), the keys
//! of the local store, path-style addressing to the given endpoint.

use std::process::Output;

use tokio::process::Command;

/// The keys every local store of these tests is started with.
pub const ACCESS_KEY: &str = "AKCLIMANYTESTKEY0001";
/// Recognisable, so that a test may search outputs for it.
pub const SECRET: &str = "SECRET-many-sentinel-2b7e1c-never-print-me";

/// One run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// `command` with an empty environment but for what keeps it off the developer's AWS files
/// and the real IMDS, killed when dropped.
pub fn isolated(command: &mut Command) -> &mut Command {
    let nowhere = std::env::temp_dir().join("s3-connector-tests-no-such-aws-dir");
    command
        .env_clear()
        .env("AWS_CONFIG_FILE", nowhere.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", nowhere.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .kill_on_drop(true)
}

/// The binary with `args` and an [`isolated`] environment: no keys, no endpoint, no IMDS.
pub fn bare(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_s3-connector"));
    isolated(&mut command).args(args);
    command
}

/// Reads `serve`'s log from `stderr` until it says where it serves: that address
/// (`127.0.0.1:PORT`) and every line read so far. Fails the test when serve ends or says
/// nothing for 60 s.
pub async fn serve_started<R: tokio::io::AsyncBufRead + Unpin>(stderr: &mut R) -> (String, String) {
    use tokio::io::AsyncBufReadExt;
    let mut log = String::new();
    loop {
        let mut line = String::new();
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(60), stderr.read_line(&mut line)).await;
        assert!(matches!(read, Ok(Ok(n)) if n > 0), "serve did not start:\n{log}");
        log.push_str(&line);
        if let Some(address) = address_after(&line, "serving on http://") {
            return (address, log);
        }
    }
}

/// The `HOST:PORT` after `prefix` in a log line, text or JSON.
pub fn address_after(line: &str, prefix: &str) -> Option<String> {
    let rest = line.split(prefix).nth(1)?;
    rest.split(|c: char| c.is_whitespace() || c == '"' || c == '/').next().map(str::to_owned)
}

/// Runs the binary with `args` against `endpoint`.
pub async fn run(endpoint: &str, args: &[&str]) -> Run {
    run_with(endpoint, args, &[]).await
}

/// Runs the binary with `args` against `endpoint`, with these variables set besides.
pub async fn run_with(endpoint: &str, args: &[&str], environment: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_s3-connector"));
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_REQUEST_CHECKSUM_CALCULATION",
        "AWS_RESPONSE_CHECKSUM_VALIDATION",
    ] {
        command.env_remove(name);
    }
    let nowhere = std::env::temp_dir().join("s3-connector-tests-no-such-aws-dir");
    command
        .env("AWS_CONFIG_FILE", nowhere.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", nowhere.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .args(["--endpoint", endpoint, "--path-style"])
        .envs(environment.iter().copied())
        .args(args)
        .kill_on_drop(true);
    command.output().await.expect("the binary runs").into()
}
