//! IAM Identity Center (SSO) profiles against a stand-in portal on 127.0.0.1: the token cache
//! `aws sso login` writes, in a temporary home, is read for the `sso-session` and the legacy
//! form; the portal gets the token in `x-amz-sso_bearer_token` and the role and account in the
//! query; an expired or refused login says how to sign in again, names the profile, role and
//! account, and never quotes the token. Through the library and through the binary (`ls`
//! against s3s-fs with the role credentials the portal hands out).

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use s3_connector_host::Secret;
use s3_connector_host::credentials::token_cache_file;
use s3_connector_host::credentials::{CredentialsProvider, ProfileProvider, SsoLogin, time};
use s3_connector_local_store::LocalS3;
use tokio::net::TcpListener;

use crate::common::cli_binary::{ACCESS_KEY, SECRET, run_with};

/// Recognisable, so that every output can be searched for it.
const TOKEN: &str = "SSO-ACCESS-TOKEN-sentinel-9f3a";
const START_URL: &str = "https://d-abc123.awsapps.com/start";
const ACCOUNT: &str = "123456789012";
/// A role name with characters the query must encode.
const ROLE: &str = "Read+Only@Team";

/// One request as the portal received it.
#[derive(Debug, Clone)]
struct Seen {
    path_and_query: String,
    token: Option<String>,
}

/// A stand-in portal that records requests and answers `(status, body)`.
struct Portal {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Portal {
    async fn start(answer: impl Fn() -> (u16, String) + Send + Sync + 'static) -> Self {
        let answer = Arc::new(answer);
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { return };
                let (log, answer) = (log.clone(), answer.clone());
                let service = service_fn(move |request: http::Request<Incoming>| {
                    let (log, answer) = (log.clone(), answer.clone());
                    async move {
                        log.lock().unwrap().push(Seen {
                            path_and_query: request.uri().to_string(),
                            token: request
                                .headers()
                                .get("x-amz-sso_bearer_token")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned),
                        });
                        let (status, body) = answer();
                        Ok::<_, Infallible>(
                            http::Response::builder()
                                .status(status)
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from(body)))
                                .unwrap(),
                        )
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        Self { url, seen, task }
    }

    /// Hands out `id`/`secret` with a session token, valid for an hour.
    async fn granting(id: &'static str, secret: &'static str) -> Self {
        Self::start(move || {
            let expiration = (SystemTime::now() + Duration::from_secs(3600))
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis();
            let body = format!(
                r#"{{"roleCredentials":{{"accessKeyId":"{id}","secretAccessKey":"{secret}",
                    "sessionToken":"role-session-token","expiration":{expiration}}}}}"#
            );
            (200, body)
        })
        .await
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Which form of SSO profile a test writes.
#[derive(Clone, Copy)]
enum Form {
    Session,
    Legacy,
}

/// A home directory with `.aws/config` holding profile `dev` in `form`, and the token cache
/// `aws sso login` would have written, expiring at `expires_at` (none when `None`).
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new(form: Form, expires_at: Option<SystemTime>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let aws = dir.path().join(".aws");
        std::fs::create_dir_all(&aws).unwrap();
        let (config, login) = match form {
            Form::Session => (
                format!(
                    "[profile dev]\nsso_session = corp\nsso_account_id = {ACCOUNT}\nsso_role_name = {ROLE}\n\
                     region = us-east-1\n[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = eu-central-1\n\
                     sso_registration_scopes = sso:account:access\n"
                ),
                SsoLogin::Session {
                    name: "corp".into(),
                    start_url: START_URL.into(),
                    region: "eu-central-1".into(),
                },
            ),
            Form::Legacy => (
                format!(
                    "[profile dev]\nsso_start_url = {START_URL}\nsso_region = eu-central-1\n\
                     sso_account_id = {ACCOUNT}\nsso_role_name = {ROLE}\nregion = us-east-1\n"
                ),
                SsoLogin::Legacy { start_url: START_URL.into(), region: "eu-central-1".into() },
            ),
        };
        std::fs::write(aws.join("config"), config).unwrap();
        if let Some(expires_at) = expires_at {
            let cache = token_cache_file(dir.path(), &login);
            std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
            std::fs::write(
                &cache,
                format!(
                    r#"{{"startUrl":"{START_URL}","region":"eu-central-1","accessToken":"{TOKEN}",
                        "expiresAt":"{}","clientId":"cid","clientSecret":"csecret","refreshToken":"rtoken"}}"#,
                    time::format_rfc3339(expires_at)
                ),
            )
            .unwrap();
        }
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn config(&self) -> PathBuf {
        self.path().join(".aws").join("config")
    }

    /// The environment of a user with this home and the portal at `portal`.
    fn lookup(&self, portal: &str) -> impl Fn(&str) -> Option<String> + use<> {
        let (home, config, portal) =
            (self.path().display().to_string(), self.config().display().to_string(), portal.to_owned());
        move |name: &str| match name {
            "HOME" => Some(home.clone()),
            "AWS_CONFIG_FILE" => Some(config.clone()),
            "AWS_SHARED_CREDENTIALS_FILE" => Some(format!("{home}/no-credentials")),
            "AWS_ENDPOINT_URL_SSO" => Some(portal.clone()),
            "AWS_EC2_METADATA_DISABLED" => Some("true".into()),
            _ => None,
        }
    }
}

fn in_an_hour() -> Option<SystemTime> {
    Some(SystemTime::now() + Duration::from_secs(3600))
}

fn provider(home: &Home, portal: &str) -> ProfileProvider {
    ProfileProvider::load(&home.lookup(portal), Some("dev")).unwrap().unwrap()
}

const EXPECTED_QUERY: &str = "/federation/credentials?account_id=123456789012&role_name=Read%2BOnly%40Team";

#[tokio::test]
async fn both_forms_get_the_roles_credentials_with_the_cached_token() {
    for form in [Form::Session, Form::Legacy] {
        let portal = Portal::granting("ASIASSOROLE", "role-secret").await;
        let home = Home::new(form, in_an_hour());
        let provider = provider(&home, &portal.url);
        assert!(
            provider
                .description()
                .starts_with(&format!("IAM Identity Center role {ROLE} in account {ACCOUNT} (")),
            "{}",
            provider.description()
        );
        let credentials = provider.credentials().await.unwrap();
        assert_eq!(credentials.access_key_id, "ASIASSOROLE");
        assert_eq!(credentials.secret_access_key.expose(), "role-secret");
        assert_eq!(credentials.session_token.as_ref().map(Secret::expose), Some("role-session-token"));
        let left = credentials.expires_at.unwrap().duration_since(SystemTime::now()).unwrap();
        assert!(left > Duration::from_secs(3500) && left <= Duration::from_secs(3600), "{left:?}");
        // Cached like the other temporary credentials: a second call asks no one.
        provider.credentials().await.unwrap();
        let seen = portal.seen();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].path_and_query, EXPECTED_QUERY);
        assert_eq!(seen[0].token.as_deref(), Some(TOKEN));
    }
}

#[tokio::test]
async fn a_missing_or_expired_login_says_to_sign_in_again_and_asks_no_portal() {
    let portal = Portal::granting("ASIASSOROLE", "role-secret").await;
    for (form, expires_at, expected) in [
        (Form::Session, Some(SystemTime::now() - Duration::from_secs(60)), "expired at"),
        (Form::Legacy, Some(SystemTime::now() - Duration::from_secs(60)), "expired at"),
        (Form::Session, None, "has not signed in to sso-session `corp`"),
        (Form::Legacy, None, "has not signed in to sso_start_url"),
    ] {
        let home = Home::new(form, expires_at);
        let error = provider(&home, &portal.url).credentials().await.unwrap_err().to_string();
        assert!(error.contains(expected), "{error}");
        assert!(error.contains("run aws sso login --profile dev"), "{error}");
        assert!(!error.contains(TOKEN), "{error}");
    }
    assert!(portal.seen().is_empty());
}

#[tokio::test]
async fn a_refusing_portal_is_named_with_the_profile_role_and_account_and_never_the_token() {
    // A portal that quotes the token back: the error must still not show it.
    let quoting = format!(r#"{{"message":"Session token {TOKEN} not found or invalid"}}"#);
    let unauthorized = {
        let body = quoting.clone();
        Portal::start(move || (401, body.clone())).await
    };
    let forbidden = {
        let body = quoting.clone();
        Portal::start(move || (403, body.clone())).await
    };
    let home = Home::new(Form::Session, in_an_hour());

    let provider_401 = provider(&home, &unauthorized.url);
    let error = provider_401.credentials().await.unwrap_err().to_string();
    assert!(error.contains("refused the SSO login of profile `dev`"), "{error}");
    assert!(error.contains("run aws sso login --profile dev"), "{error}");
    assert!(error.contains("<redacted>") && !error.contains(TOKEN), "{error}");

    let provider_403 = provider(&home, &forbidden.url);
    let error = provider_403.credentials().await.unwrap_err().to_string();
    assert!(
        error.contains(&format!(
            "refused role `{ROLE}` in account {ACCOUNT} for profile `dev` (403 Forbidden"
        )),
        "{error}"
    );
    assert!(error.contains("sso_account_id and sso_role_name"), "{error}");
    assert!(!error.contains(TOKEN), "{error}");
    for provider in [&provider_401, &provider_403] {
        let shown = format!("{provider:?} {}", provider.description());
        assert!(!shown.contains(TOKEN), "{shown}");
    }
}

#[tokio::test]
async fn only_aws_endpoint_url_sso_moves_the_portal() {
    // The general endpoint (usually an S3-compatible store) never receives the token: without
    // AWS_ENDPOINT_URL_SSO the portal is the region's. Nothing is sent: Debug shows the choice.
    let home = Home::new(Form::Session, in_an_hour());
    let inner = home.lookup("unused");
    let lookup = |name: &str| match name {
        "AWS_ENDPOINT_URL_SSO" => None,
        "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:9".to_owned()),
        _ => inner(name),
    };
    let provider = ProfileProvider::load(&lookup, Some("dev")).unwrap().unwrap();
    let debug = format!("{provider:?}");
    assert!(debug.contains("https://portal.sso.eu-central-1.amazonaws.com/"), "{debug}");
    assert!(!debug.contains("127.0.0.1:9"), "{debug}");
    // Plain http to anything but loopback would carry the token in clear text.
    let remote = |name: &str| match name {
        "AWS_ENDPOINT_URL_SSO" => Some("http://portal.example.com".to_owned()),
        _ => inner(name),
    };
    let error = ProfileProvider::load(&remote, Some("dev")).unwrap_err().to_string();
    assert!(error.contains("AWS_ENDPOINT_URL_SSO") && error.contains("not loopback"), "{error}");
}

/// The binary, as a user runs it with an SSO profile: no keys in the environment.
async fn run_sso(endpoint: &str, home: &Home, portal: &str, args: &[&str]) -> crate::common::cli_binary::Run {
    let home_dir = home.path().display().to_string();
    let config = home.config().display().to_string();
    run_with(
        endpoint,
        args,
        &[
            // Empty counts as unset: the default chain goes on to the profile.
            ("AWS_ACCESS_KEY_ID", ""),
            ("AWS_SECRET_ACCESS_KEY", ""),
            ("AWS_PROFILE", "dev"),
            ("HOME", &home_dir),
            ("AWS_CONFIG_FILE", &config),
            ("AWS_ENDPOINT_URL_SSO", portal),
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_lists_buckets_with_an_sso_profile_and_says_when_to_sign_in_again() {
    let root = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(root.path(), ACCESS_KEY, Secret::new(SECRET)).await.unwrap();
    let endpoint = s3.endpoint();
    let portal = Portal::granting(ACCESS_KEY, SECRET).await;

    for form in [Form::Session, Form::Legacy] {
        let home = Home::new(form, in_an_hour());
        let made = run_sso(&endpoint, &home, &portal.url, &["-v", "mb", "s3://sso-made"]).await;
        assert_eq!(made.code, 0, "{}", made.stderr);
        assert!(
            made.stderr.contains(&format!(
                "credentials from the default chain: profile `dev`: IAM Identity Center role {ROLE}"
            )),
            "{}",
            made.stderr
        );
        let listed = run_sso(&endpoint, &home, &portal.url, &["ls"]).await;
        assert_eq!(listed.code, 0, "{}", listed.stderr);
        assert!(listed.stdout.contains("sso-made"), "{}", listed.stdout);
        for output in [&made.stdout, &made.stderr, &listed.stdout, &listed.stderr] {
            assert!(!output.contains(TOKEN) && !output.contains(SECRET), "{output}");
        }
        std::fs::remove_dir(root.path().join("sso-made")).unwrap();
    }
    let seen = portal.seen();
    assert!(seen.len() >= 4 && seen.iter().all(|s| s.path_and_query == EXPECTED_QUERY), "{seen:?}");
    assert!(seen.iter().all(|s| s.token.as_deref() == Some(TOKEN)), "{seen:?}");

    // Expired: the advice, the profile, no token, nothing asked of the portal.
    let asked = portal.seen().len();
    let expired = Home::new(Form::Session, Some(SystemTime::now() - Duration::from_secs(60)));
    let refused = run_sso(&endpoint, &expired, &portal.url, &["ls"]).await;
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("run aws sso login --profile dev"), "{}", refused.stderr);
    assert!(!refused.stderr.contains(TOKEN) && !refused.stdout.contains(TOKEN), "{}", refused.stderr);
    assert_eq!(portal.seen().len(), asked);

    // A portal refusing the role: named with the role and the account.
    let forbidden = Portal::start(|| (403, r#"{"message":"No access"}"#.to_owned())).await;
    let home = Home::new(Form::Legacy, in_an_hour());
    let refused = run_sso(&endpoint, &home, &forbidden.url, &["ls"]).await;
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains(&format!("refused role `{ROLE}` in account {ACCOUNT} for profile `dev`")),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("No access"), "{}", refused.stderr);
}
