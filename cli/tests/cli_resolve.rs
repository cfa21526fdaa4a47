//! The command line's `--resolve HOST:PORT:ADDR` (curl's): a virtual-hosted HTTPS endpoint
//! whose names are in no DNS, `s3.connector.test`, reached on 127.0.0.1 with the bucket in the
//! host name and the certificate checked for that name; and a malformed entry refused as a
//! usage error before any request.

use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use s3_connector_host::Secret;
use s3_connector_local_store::LocalS3;
use tokio::process::Command;

use crate::common::cli_binary::Run;

const ACCESS_KEY: &str = "AKCLIRESOLVETEST0001";
const SECRET: &str = "cli-resolve-secret-0123456789abcdefghijkl";
const DOMAIN: &str = "s3.connector.test";

/// A CA (its PEM written to `dir/ca.pem`) and a server configuration with a certificate for
/// `*.s3.connector.test` and `s3.connector.test` that it signed.
fn ca(dir: &Path) -> Arc<rustls::ServerConfig> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec![format!("*.{DOMAIN}"), DOMAIN.to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![server.der().clone()], key);
    Arc::new(config.unwrap())
}

fn command(home: &Path, args: &[&str]) -> Command {
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
        .args(["--allow", "*=read,write,delete,list,admin"])
        .args(args)
        .kill_on_drop(true);
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_reaches_a_virtual_hosted_name_on_loopback_and_bad_entries_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let config = ca(dir.path());
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let s3 = LocalS3::start_tls_virtual_hosted(
        &dir.path().join("data"),
        &[(ACCESS_KEY, Secret::new(SECRET))],
        config,
        DOMAIN,
    )
    .await
    .unwrap();
    let port = s3.port();
    let endpoint = s3.endpoint();
    assert_eq!(endpoint, format!("https://{DOMAIN}:{port}"));
    let ca_bundle = dir.path().join("ca.pem");
    let exact = format!("{DOMAIN}:{port}:127.0.0.1");
    let buckets = format!("*.{DOMAIN}:{port}:127.0.0.1");
    let base = [
        "--endpoint",
        endpoint.as_str(),
        "--ca-bundle",
        ca_bundle.to_str().unwrap(),
        "--resolve",
        exact.as_str(),
        "--resolve",
        buckets.as_str(),
    ];
    let home = dir.path();
    let run = |more: &[&str]| {
        let args: Vec<&str> = base.iter().chain(more).copied().collect();
        command(home, &args)
    };
    let Run { code, stderr, .. } = Run::from(run(&["mb", "s3://cli"]).output().await.unwrap());
    assert_eq!(code, 0, "{stderr}");
    let local = dir.path().join("up.txt");
    std::fs::write(&local, b"by name, on loopback").unwrap();
    let Run { code, stderr, .. } =
        Run::from(run(&["cp", local.to_str().unwrap(), "s3://cli/k.txt"]).output().await.unwrap());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read(dir.path().join("data/cli/k.txt")).unwrap(), b"by name, on loopback");
    let Run { code, stdout, stderr } = Run::from(run(&["ls", "s3://cli"]).output().await.unwrap());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("k.txt"), "{stdout}");

    // Without the override for the bucket names, bucket.s3.connector.test is looked up and
    // (a reserved .test name) does not resolve: one line naming the host, exit 1.
    let only_exact = ["--endpoint", endpoint.as_str(), "--ca-bundle", ca_bundle.to_str().unwrap()];
    let args: Vec<&str> =
        only_exact.iter().chain(["--resolve", exact.as_str(), "ls", "s3://cli"].iter()).copied().collect();
    let Run { code, stderr, .. } = Run::from(command(home, &args).output().await.unwrap());
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("cli.{DOMAIN}:{port}")) && stderr.trim().lines().count() == 1,
        "{stderr}"
    );

    // A malformed entry: a usage error naming the flag, before any request.
    let before = s3.requests_received();
    let Run { code, stderr, .. } = Run::from(
        command(home, &["--endpoint", endpoint.as_str(), "--resolve", "s3.connector.test:443", "ls"])
            .output()
            .await
            .unwrap(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--resolve \"s3.connector.test:443\" is not HOST:PORT:ADDRESS"), "{stderr}");
    assert_eq!(s3.requests_received(), before);
}
