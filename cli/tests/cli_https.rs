//! The command line over HTTPS: a private CA from `--ca-bundle`, `AWS_CA_BUNDLE`, the
//! profile's `ca_bundle` or `ca_bundle` in `--config` (in the aws CLI's order), and the
//! one-line error, exit 1, when the server's certificate is not trusted.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use s3_connector_host::Secret;
use s3_connector_local_store::LocalS3;
use tokio::process::Command;

const ACCESS_KEY: &str = "AKCLIHTTPSTEST000001";
const SECRET: &str = "cli-https-secret-0123456789abcdefghijklmn";

/// A CA (its PEM written to `dir/NAME.pem`) and a rustls server configuration with a
/// certificate for 127.0.0.1 and localhost that it signed.
fn ca(dir: &Path, name: &str) -> (PathBuf, Arc<rustls::ServerConfig>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let path = dir.join(format!("{name}.pem"));
    std::fs::write(&path, ca.pem()).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![server.der().clone()], key);
    (path, Arc::new(config.unwrap()))
}

fn command(endpoint: &str, home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_s3-connector"));
    command.env_clear();
    command
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .args(["--endpoint", endpoint, "--path-style", "--allow", "*=read,write,delete,list,admin"])
        .kill_on_drop(true);
    command
}

fn text(output: &Output) -> (i32, String, String) {
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_trusts_a_private_ca_from_each_source_in_order_and_says_what_to_do_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let (good, server_config) = ca(dir.path(), "good");
    let (other, _) = ca(dir.path(), "other");
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let s3 =
        LocalS3::start_tls(&dir.path().join("data"), &[(ACCESS_KEY, Secret::new(SECRET))], server_config)
            .await
            .unwrap();
    let endpoint = s3.endpoint();
    assert!(endpoint.starts_with("https://127.0.0.1:"), "{endpoint}");
    let home = dir.path();
    let host = format!("127.0.0.1:{}", s3.port());
    let good_arg = good.to_str().unwrap();

    // No CA: one line naming the host and --ca-bundle, exit 1, and nothing reached the server.
    let (code, _, stderr) = text(&command(&endpoint, home).args(["mb", "s3://tls"]).output().await.unwrap());
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&host) && stderr.contains("--ca-bundle") && stderr.contains("not trusted"),
        "{stderr}"
    );
    assert_eq!(s3.requests_received(), 0);

    // --ca-bundle: make a bucket, upload, download, list.
    let file = dir.path().join("hello.txt");
    std::fs::write(&file, b"hello over tls").unwrap();
    for args in [vec!["mb", "s3://tls"], vec!["cp", file.to_str().unwrap(), "s3://tls/hello.txt"]] {
        let output =
            command(&endpoint, home).args(["--ca-bundle", good_arg]).args(&args).output().await.unwrap();
        let (code, _, stderr) = text(&output);
        assert_eq!(code, 0, "{args:?}: {stderr}");
    }
    let output = command(&endpoint, home)
        .args(["--ca-bundle", good_arg, "cp", "s3://tls/hello.txt", "-"])
        .output()
        .await
        .unwrap();
    assert_eq!(text(&output).1, "hello over tls");

    // AWS_CA_BUNDLE, the profile's ca_bundle, ca_bundle in --config: each alone is enough.
    let profile = dir.path().join("aws-config");
    std::fs::write(&profile, format!("[default]\nca_bundle = {good_arg}\n")).unwrap();
    let config = dir.path().join("connector.toml");
    std::fs::write(&config, format!("ca_bundle = {good_arg:?}\n")).unwrap();
    let config_arg = config.to_str().unwrap();
    let mut by_env = command(&endpoint, home);
    by_env.env("AWS_CA_BUNDLE", &good);
    let mut by_profile = command(&endpoint, home);
    by_profile.env("AWS_CONFIG_FILE", &profile);
    let mut by_config = command(&endpoint, home);
    by_config.args(["--config", config_arg]);
    for (name, mut command) in [("AWS_CA_BUNDLE", by_env), ("profile", by_profile), ("--config", by_config)] {
        let (code, stdout, stderr) = text(&command.args(["ls", "s3://tls/"]).output().await.unwrap());
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(stdout.contains("hello.txt"), "{name}: {stdout}");
    }

    // The order: the flag beats the config file, which beats AWS_CA_BUNDLE, which beats the
    // profile. The winner names the wrong CA each time, so the call must fail.
    let other_arg = other.to_str().unwrap();
    let other_config = dir.path().join("other.toml");
    std::fs::write(&other_config, format!("ca_bundle = {other_arg:?}\n")).unwrap();
    let mut flag_wins = command(&endpoint, home);
    flag_wins.args(["--ca-bundle", other_arg, "--config", config_arg]).env("AWS_CA_BUNDLE", &good);
    let mut file_wins = command(&endpoint, home);
    file_wins.args(["--config", other_config.to_str().unwrap()]).env("AWS_CA_BUNDLE", &good);
    let mut env_wins = command(&endpoint, home);
    env_wins.env("AWS_CA_BUNDLE", &other).env("AWS_CONFIG_FILE", &profile);
    for (name, mut command) in [("flag", flag_wins), ("config", file_wins), ("environment", env_wins)] {
        let (code, _, stderr) = text(&command.args(["ls", "s3://tls/"]).output().await.unwrap());
        assert_eq!(code, 1, "{name} should have won with the other CA: {stderr}");
        assert!(stderr.contains("not trusted"), "{name}: {stderr}");
    }

    // A bundle that cannot be read is a usage error naming the file and where it was named.
    let missing = dir.path().join("missing.pem");
    let output = command(&endpoint, home)
        .env("AWS_CA_BUNDLE", &missing)
        .args(["ls", "s3://tls/"])
        .output()
        .await
        .unwrap();
    let (code, _, stderr) = text(&output);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("missing.pem (from AWS_CA_BUNDLE)"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_timeouts_are_flags_and_name_themselves() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("http://{address}");
    let output = command(&endpoint, dir.path())
        .args(["--cli-read-timeout", "1", "--max-attempts", "1", "ls", "s3://quiet/"])
        .output()
        .await
        .unwrap();
    let (code, _, stderr) = text(&output);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("read timeout (1 s; --cli-read-timeout)") && stderr.contains(&address.to_string()),
        "{stderr}"
    );
    let output =
        command(&endpoint, dir.path()).args(["--cli-connect-timeout", "0", "ls"]).output().await.unwrap();
    assert_eq!(text(&output).0, 2, "0 is refused: the aws CLI's 'no timeout' is not offered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_off_loopback_needs_tls_or_an_explicit_insecure_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    // Refused before binding: nothing listens on 0.0.0.0.
    let output = command("http://127.0.0.1:9", dir.path())
        .args(["serve", "--listen", "0.0.0.0:0", "--token", "t0ken-for-this-test"])
        .output()
        .await
        .unwrap();
    let (code, _, stderr) = text(&output);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("0.0.0.0:0")
            && stderr.contains("--tls-cert")
            && stderr.contains("--insecure-plaintext"),
        "{stderr}"
    );
    let output = command("http://127.0.0.1:9", dir.path())
        .args([
            "serve",
            "--tls-cert",
            "/nonexistent/cert.pem",
            "--tls-key",
            "/nonexistent/key.pem",
            "--token",
            "t0ken-for-this-test",
        ])
        .output()
        .await
        .unwrap();
    let (code, _, stderr) = text(&output);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--tls-cert /nonexistent/cert.pem"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_proxies_come_from_the_flag_or_the_environment_and_no_proxy_goes_direct() {
    let dir = tempfile::tempdir().unwrap();
    // Both ports closed: the error says which one the CLI tried.
    let endpoint = "http://127.0.0.1:1";
    let mut via_env = command(endpoint, dir.path());
    via_env.env("HTTP_PROXY", "http://carol:PROXY-SECRET@127.0.0.1:2");
    let (code, _, stderr) =
        text(&via_env.args(["--max-attempts", "1", "ls", "s3://bkt/"]).output().await.unwrap());
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("proxy http://carol:<redacted>@127.0.0.1:2") && !stderr.contains("PROXY-SECRET"),
        "{stderr}"
    );
    let mut bypass = command(endpoint, dir.path());
    bypass.env("HTTP_PROXY", "http://127.0.0.1:2").env("NO_PROXY", "127.0.0.1");
    let (code, _, stderr) =
        text(&bypass.args(["--max-attempts", "1", "ls", "s3://bkt/"]).output().await.unwrap());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("cannot connect to 127.0.0.1:1: connection refused"), "{stderr}");
    let output =
        command(endpoint, dir.path()).args(["--proxy", "socks5://127.0.0.1:2", "ls"]).output().await.unwrap();
    let (code, _, stderr) = text(&output);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--proxy socks5://127.0.0.1:2"), "{stderr}");
}
