//! Every network credential provider against a stub on 127.0.0.1:0 that checks what it
//! receives: STS AssumeRole (the SigV4 signature recomputed with the known secret), profile role
//! chains and credential_process, web identity, the container endpoint, IMDSv2, and the default
//! chain picking each of them.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use s3_connector_host::credentials::{
    AssumeRoleProvider, CachedProvider, ContainerProvider, CredentialsProvider, ImdsProvider,
    ProfileProvider, RoleSessionSettings, SessionPolicySettings, WebIdentityProvider, default_chain, time,
};
use s3_connector_host::{Policy, Secret, StaticCredentials};
use tokio::net::TcpListener;

const ROLE: &str = "arn:aws:iam::123456789012:role/uploader";
const SOURCE_ID: &str = "AKIDSOURCE";
const SOURCE_SECRET: &str = "source-secret-VALUE";
const SOURCE_TOKEN: &str = "source-token-VALUE";

/// One request as the stub received it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: http::HeaderMap,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn form(&self, name: &str) -> Option<String> {
        self.body.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
        })
    }
}

type Handler = Arc<dyn Fn(&Seen) -> (u16, String) + Send + Sync>;

/// A tiny HTTP server on 127.0.0.1:0 that records requests and answers with `handler`.
struct Stub {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Stub {
    async fn start(handler: impl Fn(&Seen) -> (u16, String) + Send + Sync + 'static) -> Self {
        let handler: Handler = Arc::new(handler);
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { return };
                let (log, handler) = (log.clone(), handler.clone());
                let service = service_fn(move |request: http::Request<Incoming>| {
                    let (log, handler) = (log.clone(), handler.clone());
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
                        let seen = Seen {
                            method: parts.method.to_string(),
                            path: parts.uri.to_string(),
                            headers: parts.headers,
                            body: String::from_utf8_lossy(&body).into_owned(),
                        };
                        let (status, answer) = handler(&seen);
                        log.lock().unwrap().push(seen);
                        Ok::<_, Infallible>(
                            http::Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::from(answer)))
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

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn in_an_hour() -> String {
    time::format_rfc3339(SystemTime::now() + Duration::from_secs(3600))
}

fn sts_answer(action: &str, id: &str) -> String {
    format!(
        "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{action}Result>\
         <Credentials><AccessKeyId>{id}</AccessKeyId><SecretAccessKey>assumed-secret-VALUE</SecretAccessKey>\
         <SessionToken>assumed-token-VALUE</SessionToken><Expiration>{}</Expiration></Credentials>\
         </{action}Result></{action}Response>",
        in_an_hour()
    )
}

fn sts_error(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error></ErrorResponse>"
    )
}

/// Recomputes the SigV4 `Authorization` of a received STS request with the known secret and
/// token: the same headers it says it signed, its `x-amz-date`, the scope's region and service.
fn expected_authorization(
    seen: &Seen,
    host: &str,
    secret: &str,
    token: Option<&str>,
) -> Result<String, String> {
    let authorization = seen.header("authorization").ok_or("no Authorization header")?;
    let scope =
        authorization.split("Credential=").nth(1).and_then(|r| r.split(',').next()).ok_or("no Credential")?;
    let parts: Vec<&str> = scope.split('/').collect();
    let [access_key_id, _date, region, service, _] = parts[..] else { return Err(format!("scope {scope}")) };
    let signed: Vec<&str> = authorization
        .split("SignedHeaders=")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .ok_or("no SignedHeaders")?
        .split(';')
        .collect();
    let amz_date = seen.header("x-amz-date").ok_or("no x-amz-date")?;
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &amz_date[0..4],
        &amz_date[4..6],
        &amz_date[6..8],
        &amz_date[9..11],
        &amz_date[11..13],
        &amz_date[13..15]
    );
    let when = time::parse_rfc3339(&rfc3339).ok_or("bad x-amz-date")?;
    if token != seen.header("x-amz-security-token") {
        return Err("the session token header is not the source's token".into());
    }
    let identity =
        aws_credential_types::Credentials::new(access_key_id, secret, token.map(str::to_owned), None, "stub")
            .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(when)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let headers: Vec<(&str, &str)> = signed
        .iter()
        .filter(|name| !matches!(**name, "x-amz-date" | "x-amz-security-token"))
        .map(|name| Ok((*name, seen.header(name).ok_or(format!("signed header {name} missing"))?)))
        .collect::<Result<_, String>>()?;
    let uri = format!("http://{host}{}", seen.path);
    let signable = SignableRequest::new(
        &seen.method,
        &uri,
        headers.into_iter(),
        SignableBody::Bytes(seen.body.as_bytes()),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    let mut request = http::Request::builder().uri(&uri).body(()).unwrap();
    instructions.apply_to_request_http1x(&mut request);
    Ok(request.headers()["authorization"].to_str().unwrap().to_owned())
}

/// An STS stub that accepts AssumeRole only when signed with `SOURCE_SECRET`.
async fn verifying_sts() -> Stub {
    let host = Arc::new(Mutex::new(String::new()));
    let host_for_handler = host.clone();
    let stub = Stub::start(move |seen| {
        let host = host_for_handler.lock().unwrap().clone();
        if seen.method != "POST" || seen.form("Action").as_deref() != Some("AssumeRole") {
            return (400, sts_error("InvalidAction", "expected a POST of Action=AssumeRole"));
        }
        if seen.form("Version").as_deref() != Some("2011-06-15") {
            return (400, sts_error("InvalidAction", "wrong Version"));
        }
        match expected_authorization(seen, &host, SOURCE_SECRET, Some(SOURCE_TOKEN)) {
            Ok(expected) if Some(expected.as_str()) == seen.header("authorization") => {
                (200, sts_answer("AssumeRole", "ASIAASSUMED"))
            }
            Ok(_) => (403, sts_error("SignatureDoesNotMatch", "the signature does not match")),
            Err(e) => (403, sts_error("IncompleteSignature", &e)),
        }
    })
    .await;
    *host.lock().unwrap() = stub.url.trim_start_matches("http://").to_owned();
    stub
}

fn source(secret: &str) -> Arc<StaticCredentials> {
    Arc::new(StaticCredentials::new(SOURCE_ID, Secret::new(secret), Some(Secret::new(SOURCE_TOKEN))))
}

#[tokio::test]
async fn assume_role_is_signed_and_the_stub_verifies_the_signature() {
    let sts = verifying_sts().await;
    let provider = AssumeRoleProvider::new(source(SOURCE_SECRET), ROLE)
        .unwrap()
        .with_endpoint(&sts.url)
        .unwrap()
        .with_region("eu-west-1")
        .with_session_name("nightly")
        .unwrap()
        .with_duration(Duration::from_secs(900))
        .unwrap()
        .with_external_id("partner-42")
        .with_policy(r#"{"Version":"2012-10-17","Statement":[]}"#);
    let credentials = provider.credentials().await.unwrap();
    assert_eq!(credentials.access_key_id, "ASIAASSUMED");
    assert_eq!(credentials.secret_access_key.expose(), "assumed-secret-VALUE");
    assert_eq!(credentials.session_token.as_ref().map(Secret::expose), Some("assumed-token-VALUE"));
    assert!(credentials.expires_at.unwrap() > SystemTime::now() + Duration::from_secs(3000));

    let seen = sts.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.form("RoleArn").as_deref(), Some(ROLE));
    assert_eq!(request.form("RoleSessionName").as_deref(), Some("nightly"));
    assert_eq!(request.form("DurationSeconds").as_deref(), Some("900"));
    assert_eq!(request.form("ExternalId").as_deref(), Some("partner-42"));
    assert_eq!(request.form("Policy").as_deref(), Some(r#"{"Version":"2012-10-17","Statement":[]}"#));
    assert!(request.header("authorization").unwrap().contains("/eu-west-1/sts/aws4_request"));
    assert_eq!(request.header("content-type"), Some("application/x-www-form-urlencoded; charset=utf-8"));

    // The wrong secret gives another signature: the stub refuses, the error says why.
    let wrong =
        AssumeRoleProvider::new(source("not-the-secret"), ROLE).unwrap().with_endpoint(&sts.url).unwrap();
    let error = wrong.credentials().await.unwrap_err().to_string();
    assert!(
        error.starts_with(
            "no credentials from assume-role: STS AssumeRole answered 403 Forbidden: SignatureDoesNotMatch"
        ),
        "{error}"
    );
    assert!(error.contains(ROLE) && !error.contains("not-the-secret"), "{error}");
}

#[tokio::test]
async fn the_host_policy_goes_to_sts_as_the_session_policy() {
    let sts = verifying_sts().await;
    let policy = Policy::from_allow_flags(&["photos/in/=read,list", "logs=write"]).unwrap();
    let provider = AssumeRoleProvider::new(source(SOURCE_SECRET), ROLE)
        .unwrap()
        .with_endpoint(&sts.url)
        .unwrap()
        .with_region("cn-north-1")
        .with_session_policy(&policy)
        .unwrap();
    assert_eq!(provider.credentials().await.unwrap().access_key_id, "ASIAASSUMED");
    let sent = sts.seen()[0].form("Policy").expect("a Policy parameter");
    let sent: serde_json::Value = serde_json::from_str(&sent).unwrap();
    let statements = sent["Statement"].as_array().unwrap();
    let find = |action: &str| {
        statements
            .iter()
            .find(|s| s["Action"].as_array().unwrap().iter().any(|a| a == action))
            .unwrap_or_else(|| panic!("no statement with {action}: {sent}"))
    };
    // The partition follows the signing region.
    assert_eq!(find("s3:GetObject")["Resource"], serde_json::json!(["arn:aws-cn:s3:::photos/in/*"]));
    assert_eq!(find("s3:PutObject")["Resource"], serde_json::json!(["arn:aws-cn:s3:::logs/*"]));
    assert_eq!(find("s3:ListBucket")["Condition"]["StringLike"]["s3:prefix"], serde_json::json!(["in/*"]));
    assert!(statements.iter().all(|s| s["Effect"] == "Allow"));
    assert!(!sent.to_string().contains("s3:DeleteObject\""), "{sent}");

    // Too many rules for STS's 2048 characters: refused before anything is sent.
    let flags: Vec<String> = (0..40).map(|i| format!("bucket-{i:03}/a/long/prefix/{i}/=read,list")).collect();
    let error = AssumeRoleProvider::new(source(SOURCE_SECRET), ROLE)
        .unwrap()
        .with_session_policy(&Policy::from_allow_flags(&flags).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("no credentials from assume-role: the session policy for the rules"),
        "{error}"
    );
    assert_eq!(sts.seen().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_calls_cause_one_sts_call() {
    let sts = verifying_sts().await;
    let role = AssumeRoleProvider::new(source(SOURCE_SECRET), ROLE).unwrap().with_endpoint(&sts.url).unwrap();
    let cached = Arc::new(CachedProvider::new(Arc::new(role)));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let cached = cached.clone();
            tokio::spawn(async move { cached.credentials().await.map(|c| c.access_key_id) })
        })
        .collect();
    for task in tasks {
        assert_eq!(
            tokio::time::timeout(Duration::from_secs(30), task).await.unwrap().unwrap().unwrap(),
            "ASIAASSUMED"
        );
    }
    assert_eq!(sts.seen().len(), 1);
}

#[tokio::test]
async fn an_unreachable_sts_names_the_provider_and_the_cause() {
    let closed = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let role = AssumeRoleProvider::new(source(SOURCE_SECRET), ROLE).unwrap().with_endpoint(&url).unwrap();
    let error = CachedProvider::new(Arc::new(role)).credentials().await.unwrap_err().to_string();
    assert!(error.starts_with(&format!("no credentials from assume-role: POST {url}/: ")), "{error}");
}

fn profile_lookup(
    dir: &std::path::Path,
    extra: Vec<(&'static str, String)>,
) -> impl Fn(&str) -> Option<String> {
    let config = dir.join("config").display().to_string();
    let credentials = dir.join("credentials").display().to_string();
    let home = dir.display().to_string();
    move |name: &str| match name {
        "AWS_CONFIG_FILE" => Some(config.clone()),
        "AWS_SHARED_CREDENTIALS_FILE" => Some(credentials.clone()),
        "HOME" => Some(home.clone()),
        _ => extra.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()),
    }
}

#[tokio::test]
async fn a_profile_with_role_arn_and_source_profile_assumes_the_role() {
    let sts = verifying_sts().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config"),
        format!("[profile uploader]\nrole_arn = {ROLE}\nsource_profile = base\nrole_session_name = from-profile\nregion = eu-north-1\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("credentials"),
        format!(
            "[base]\naws_access_key_id = {SOURCE_ID}\naws_secret_access_key = {SOURCE_SECRET}\naws_session_token = {SOURCE_TOKEN}\n"
        ),
    )
    .unwrap();
    let lookup = profile_lookup(dir.path(), vec![("AWS_ENDPOINT_URL_STS", sts.url.clone())]);
    let provider = ProfileProvider::load(&lookup, Some("uploader")).unwrap().unwrap();
    assert_eq!(provider.credentials().await.unwrap().access_key_id, "ASIAASSUMED");
    let seen = sts.seen();
    assert_eq!(seen[0].form("RoleSessionName").as_deref(), Some("from-profile"));
    assert!(seen[0].header("authorization").unwrap().contains("/eu-north-1/sts/aws4_request"));

    // The same through the default chain, with AWS_PROFILE.
    let lookup = profile_lookup(
        dir.path(),
        vec![("AWS_ENDPOINT_URL_STS", sts.url.clone()), ("AWS_PROFILE", "uploader".to_owned())],
    );
    let chain = default_chain(lookup, None).unwrap();
    assert_eq!(chain.source(), "profile");
    assert!(
        chain.description().contains(ROLE) && !chain.description().contains(SOURCE_SECRET),
        "{}",
        chain.description()
    );
    assert_eq!(chain.credentials().await.unwrap().access_key_id, "ASIAASSUMED");
}

#[cfg(unix)]
#[tokio::test]
async fn a_profile_with_credential_process_runs_it() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("creds.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '{{\"Version\":1,\"AccessKeyId\":\"AKIDPROCESS\",\"SecretAccessKey\":\"process-secret-VALUE\",\
             \"SessionToken\":\"process-token-VALUE\",\"Expiration\":\"{}\"}}'\n",
            in_an_hour()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("config"),
        format!("[default]\ncredential_process = sh {}\n", script.display()),
    )
    .unwrap();
    let lookup = profile_lookup(dir.path(), vec![]);
    let chain = default_chain(lookup, None).unwrap();
    assert_eq!(chain.source(), "profile");
    let credentials = chain.credentials().await.unwrap();
    assert_eq!(credentials.access_key_id, "AKIDPROCESS");
    assert_eq!(credentials.session_token.as_ref().map(Secret::expose), Some("process-token-VALUE"));
    assert!(credentials.expires_at.is_some());
}

#[tokio::test]
async fn web_identity_sends_the_token_unsigned() {
    let sts = Stub::start(|seen| {
        let ok = seen.method == "POST"
            && seen.form("Action").as_deref() == Some("AssumeRoleWithWebIdentity")
            && seen.form("Version").as_deref() == Some("2011-06-15")
            && seen.form("WebIdentityToken").as_deref() == Some("oidc-token-VALUE")
            && seen.form("RoleArn").as_deref() == Some(ROLE)
            && seen.header("authorization").is_none();
        if ok {
            (200, sts_answer("AssumeRoleWithWebIdentity", "ASIAWEB"))
        } else {
            (400, sts_error("InvalidIdentityToken", "the token is not valid"))
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "oidc-token-VALUE\n").unwrap();
    let token_path = token.display().to_string();
    let env = vec![
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token_path.clone()),
        ("AWS_ROLE_ARN", ROLE.to_owned()),
        ("AWS_ROLE_SESSION_NAME", "pod-7".to_owned()),
        ("AWS_ENDPOINT_URL_STS", sts.url.clone()),
    ];
    let lookup = profile_lookup(dir.path(), env);
    let provider = WebIdentityProvider::from_env(&lookup).unwrap().unwrap();
    assert_eq!(provider.credentials().await.unwrap().access_key_id, "ASIAWEB");
    assert_eq!(sts.seen()[0].form("RoleSessionName").as_deref(), Some("pod-7"));
    let chain = default_chain(&lookup, None).unwrap();
    assert_eq!(chain.source(), "web-identity");
    assert_eq!(chain.credentials().await.unwrap().access_key_id, "ASIAWEB");

    // The host's policy as the session policy.
    let limited = WebIdentityProvider::new(&token, ROLE)
        .unwrap()
        .with_endpoint(&sts.url)
        .unwrap()
        .with_session_policy(&Policy::from_allow_flags(&["logs=read"]).unwrap())
        .unwrap();
    assert_eq!(limited.credentials().await.unwrap().access_key_id, "ASIAWEB");
    let sent = sts.seen().last().unwrap().form("Policy").expect("a Policy parameter");
    assert!(sent.contains(r#""Resource":["arn:aws:s3:::logs/*"]"#), "{sent}");

    std::fs::write(&token, "expired-token-VALUE").unwrap();
    let error = provider.credentials().await.unwrap_err().to_string();
    assert!(error.contains("InvalidIdentityToken: the token is not valid"), "{error}");
    assert!(!error.contains("expired-token-VALUE"), "{error}");
}

fn json_credentials(id: &str) -> String {
    format!(
        r#"{{"Code":"Success","AccessKeyId":"{id}","SecretAccessKey":"json-secret-VALUE","Token":"json-token-VALUE","Expiration":"{}"}}"#,
        in_an_hour()
    )
}

#[tokio::test]
async fn the_container_endpoint_gets_the_authorization_token() {
    let agent =
        Stub::start(|seen| match (seen.method.as_str(), seen.path.as_str(), seen.header("authorization")) {
            ("GET", "/v1/credentials", Some("container-auth-VALUE")) => {
                (200, json_credentials("ASIACONTAINER"))
            }
            ("GET", "/v2/credentials/task-1", None) => (200, json_credentials("ASIARELATIVE")),
            _ => (401, r#"{"code":"AccessDenied","message":"bad token"}"#.to_owned()),
        })
        .await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "container-auth-VALUE\n").unwrap();
    let env = vec![
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", format!("{}/v1/credentials", agent.url)),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file.display().to_string()),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-a-file-is-set".to_owned()),
    ];
    let lookup = profile_lookup(dir.path(), env);
    let chain = default_chain(&lookup, None).unwrap();
    assert_eq!(chain.source(), "container");
    let credentials = chain.credentials().await.unwrap();
    assert_eq!(credentials.access_key_id, "ASIACONTAINER");
    assert_eq!(credentials.session_token.as_ref().map(Secret::expose), Some("json-token-VALUE"));

    let wrong = ContainerProvider::new(&format!("{}/v1/credentials", agent.url))
        .unwrap()
        .with_token(Secret::new("wrong-auth-VALUE"));
    let error = wrong.credentials().await.unwrap_err().to_string();
    assert!(error.contains("answered 401 Unauthorized") && !error.contains("wrong-auth-VALUE"), "{error}");

    let relative = [("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/task-1")];
    let lookup = |name: &str| relative.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
    let provider = ContainerProvider::from_env_with_agent(&lookup, &agent.url).unwrap().unwrap();
    assert_eq!(provider.credentials().await.unwrap().access_key_id, "ASIARELATIVE");
    assert!(ContainerProvider::new("http://192.0.2.1/v1/credentials").is_err());
}

#[tokio::test]
async fn imds_asks_for_a_token_first_then_the_role_then_its_credentials() {
    let imds = Stub::start(|seen| {
        let token_ok = seen.header("x-aws-ec2-metadata-token") == Some("imds-session-VALUE");
        match (seen.method.as_str(), seen.path.as_str()) {
            ("PUT", "/latest/api/token") if seen.header("x-aws-ec2-metadata-token-ttl-seconds").is_some() => {
                (200, "imds-session-VALUE".to_owned())
            }
            (_, "/latest/api/token") => (400, String::new()),
            (_, _) if !token_ok => (401, String::new()),
            ("GET", "/latest/meta-data/iam/security-credentials/") => (200, "instance-role\n".to_owned()),
            ("GET", "/latest/meta-data/iam/security-credentials/instance-role") => {
                (200, json_credentials("ASIAIMDS"))
            }
            _ => (404, String::new()),
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let lookup = profile_lookup(dir.path(), vec![("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url.clone())]);
    let chain = default_chain(&lookup, None).unwrap();
    assert_eq!(chain.source(), "imds");
    assert_eq!(chain.credentials().await.unwrap().access_key_id, "ASIAIMDS");
    let order: Vec<(String, String)> = imds.seen().into_iter().map(|s| (s.method, s.path)).collect();
    assert_eq!(
        order,
        [
            ("PUT".to_owned(), "/latest/api/token".to_owned()),
            ("GET".to_owned(), "/latest/meta-data/iam/security-credentials/".to_owned()),
            ("GET".to_owned(), "/latest/meta-data/iam/security-credentials/instance-role".to_owned()),
        ]
    );

    let no_role = Stub::start(|seen| match seen.method.as_str() {
        "PUT" => (200, "t".to_owned()),
        _ => (404, String::new()),
    })
    .await;
    let error = ImdsProvider::new(&no_role.url).unwrap().credentials().await.unwrap_err().to_string();
    assert!(error.contains("IMDS has no IAM role for this instance"), "{error}");
}

/// A test PKI: a root CA, an intermediate CA, and a leaf certificate with a known serial for
/// `leaf_key`, written as PEM files.
struct Pki {
    _dir: tempfile::TempDir,
    certificate: std::path::PathBuf,
    key: std::path::PathBuf,
    chain: std::path::PathBuf,
    leaf_der: Vec<u8>,
    intermediate_der: Vec<u8>,
    public_key: Vec<u8>,
}

/// The leaf's serial number, and the same in decimal (computed independently).
const LEAF_SERIAL: [u8; 16] =
    [0x45, 0x6f, 0x2a, 0x1b, 0x9c, 0x33, 0x10, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x05];
const LEAF_SERIAL_DECIMAL: &str = "92293930709161698766915286950691931141";

fn pki(leaf_key_pem: &str) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, SerialNumber};
    let mut root_params = CertificateParams::new(vec![]).unwrap();
    root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root = CertifiedIssuer::self_signed(root_params, KeyPair::generate().unwrap()).unwrap();
    let mut intermediate_params = CertificateParams::new(vec![]).unwrap();
    intermediate_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let intermediate =
        CertifiedIssuer::signed_by(intermediate_params, KeyPair::generate().unwrap(), &root).unwrap();
    let leaf_key = KeyPair::from_pem(leaf_key_pem).unwrap();
    let mut leaf_params = CertificateParams::new(vec!["workload.example.com".to_owned()]).unwrap();
    leaf_params.serial_number = Some(SerialNumber::from_slice(&LEAF_SERIAL));
    let leaf = leaf_params.signed_by(&leaf_key, &intermediate).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let certificate = dir.path().join("workload.crt");
    let key = dir.path().join("workload.key");
    let chain = dir.path().join("chain.pem");
    std::fs::write(&certificate, leaf.pem()).unwrap();
    std::fs::write(&key, leaf_key_pem).unwrap();
    std::fs::write(&chain, intermediate.pem()).unwrap();
    Pki {
        _dir: dir,
        certificate,
        key,
        chain,
        leaf_der: leaf.der().to_vec(),
        intermediate_der: intermediate.der().to_vec(),
        public_key: leaf_key.public_key_raw().to_vec(),
    }
}

const TRUST_ANCHOR: &str = "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/ta-1";
const RA_PROFILE: &str = "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/pr-1";

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a CreateSession request the way Roles Anywhere does: the certificate headers, the
/// scope's serial number, and the signature over the recomputed string to sign, verified with
/// the certificate's public key.
fn verify_create_session(
    seen: &Seen,
    algorithm: &str,
    leaf_der: &[u8],
    intermediate_der: &[u8],
    public_key: &[u8],
) -> Result<(), String> {
    use base64::Engine;
    use sha2::Digest;
    let b64 = |der: &[u8]| base64::engine::general_purpose::STANDARD.encode(der);
    if seen.method != "POST" || seen.path != "/sessions" {
        return Err(format!("expected POST /sessions, got {} {}", seen.method, seen.path));
    }
    if seen.header("content-type") != Some("application/json") {
        return Err("content-type is not application/json".into());
    }
    if seen.header("x-amz-x509") != Some(b64(leaf_der).as_str()) {
        return Err("X-Amz-X509 is not the leaf certificate".into());
    }
    if seen.header("x-amz-x509-chain") != Some(b64(intermediate_der).as_str()) {
        return Err("X-Amz-X509-Chain is not the intermediate".into());
    }
    let authorization = seen.header("authorization").ok_or("no Authorization")?;
    let rest = authorization.strip_prefix(&format!("{algorithm} Credential=")).ok_or("wrong algorithm")?;
    let (credential, rest) = rest.split_once(", SignedHeaders=").ok_or("no SignedHeaders")?;
    let (signed_headers, signature) = rest.split_once(", Signature=").ok_or("no Signature")?;
    let (serial, scope) = credential.split_once('/').ok_or("no scope")?;
    if serial != LEAF_SERIAL_DECIMAL {
        return Err(format!("the key id {serial} is not the serial number"));
    }
    let amz_date = seen.header("x-amz-date").ok_or("no X-Amz-Date")?;
    if scope != format!("{}/eu-west-1/rolesanywhere/aws4_request", &amz_date[..8]) {
        return Err(format!("scope {scope}"));
    }
    for needed in ["content-type", "host", "x-amz-date", "x-amz-x509", "x-amz-x509-chain"] {
        if !signed_headers.split(';').any(|h| h == needed) {
            return Err(format!("{needed} is not signed"));
        }
    }
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let value = seen.header(name).ok_or(format!("signed header {name} missing"))?;
        canonical_headers.push_str(&format!("{name}:{}\n", value.trim()));
    }
    let canonical = format!(
        "POST\n/sessions\n\n{canonical_headers}\n{signed_headers}\n{}",
        hex_encode(&sha2::Sha256::digest(seen.body.as_bytes()))
    );
    let to_sign = format!(
        "{algorithm}\n{amz_date}\n{scope}\n{}",
        hex_encode(&sha2::Sha256::digest(canonical.as_bytes()))
    );
    let signature = hex_decode(signature).ok_or("the signature is not hex")?;
    let verifier: &dyn ring::signature::VerificationAlgorithm = match algorithm {
        "AWS4-X509-RSA-SHA256" => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        _ => &ring::signature::ECDSA_P256_SHA256_ASN1,
    };
    ring::signature::UnparsedPublicKey::new(verifier, public_key)
        .verify(to_sign.as_bytes(), &signature)
        .map_err(|_| "the signature does not verify with the certificate's key".to_owned())
}

fn roles_anywhere_answer() -> String {
    format!(
        r#"{{"credentialSet":[{{"assumedRoleUser":{{"arn":"arn:aws:sts::123456789012:assumed-role/uploader/s","assumedRoleId":"AROA:s"}},"credentials":{{"accessKeyId":"ASIAROLESANYWHERE","secretAccessKey":"ra-secret-VALUE","sessionToken":"ra-token-VALUE","expiration":"{}"}},"packedPolicySize":0,"roleArn":"{ROLE}","sourceIdentity":"CN=workload"}}],"subjectArn":"arn:aws:rolesanywhere:eu-west-1:123456789012:subject/s"}}"#,
        in_an_hour()
    )
}

async fn roles_anywhere_stub(pki: &Pki, algorithm: &'static str, public_key: Vec<u8>) -> Stub {
    let (leaf, intermediate) = (pki.leaf_der.clone(), pki.intermediate_der.clone());
    Stub::start(move |seen| match verify_create_session(seen, algorithm, &leaf, &intermediate, &public_key) {
        Ok(()) => (200, roles_anywhere_answer()),
        Err(e) => (403, format!(r#"{{"message":"{e}"}}"#)),
    })
    .await
}

const RSA_KEY: &str = include_str!("fixtures/test-only-rsa-key.pem");
const RSA_KEY_PKCS1: &str = include_str!("fixtures/test-only-rsa-key-pkcs1.pem");
const EC_KEY: &str = include_str!("fixtures/test-only-ec-key.pem");
const EC_KEY_SEC1: &str = include_str!("fixtures/test-only-ec-key-sec1.pem");

#[tokio::test]
async fn roles_anywhere_signs_create_session_with_the_certificate_key() {
    let ec_pkcs8 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap().serialize_pem();
    // The key files the provider reads: PKCS#8 and PKCS#1 RSA, PKCS#8 and SEC1 EC. The
    // certificate is made from the PKCS#8 form; the provider reads the other form.
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("AWS4-X509-RSA-SHA256", RSA_KEY, None),
        ("AWS4-X509-RSA-SHA256", RSA_KEY, Some(RSA_KEY_PKCS1)),
        ("AWS4-X509-ECDSA-SHA256", &ec_pkcs8, None),
        ("AWS4-X509-ECDSA-SHA256", EC_KEY, Some(EC_KEY_SEC1)),
    ];
    for (algorithm, key_pem, key_file) in cases {
        let pki = pki(key_pem);
        if let Some(other_form) = key_file {
            std::fs::write(&pki.key, other_form).unwrap();
        }
        let stub = roles_anywhere_stub(&pki, algorithm, pki.public_key.clone()).await;
        let provider = s3_connector_host::credentials::RolesAnywhereProvider::new(
            &pki.certificate,
            &pki.key,
            TRUST_ANCHOR,
            RA_PROFILE,
            ROLE,
        )
        .unwrap()
        .with_chain(&pki.chain)
        .unwrap()
        .with_session_name("workload-7")
        .unwrap()
        .with_duration(Duration::from_secs(900))
        .unwrap()
        .with_endpoint(&stub.url)
        .unwrap();
        let credentials = provider.credentials().await.unwrap_or_else(|e| panic!("{algorithm}: {e}"));
        assert_eq!(credentials.access_key_id, "ASIAROLESANYWHERE");
        assert_eq!(credentials.secret_access_key.expose(), "ra-secret-VALUE");
        assert_eq!(credentials.session_token.as_ref().map(Secret::expose), Some("ra-token-VALUE"));
        assert!(credentials.expires_at.unwrap() > SystemTime::now() + Duration::from_secs(3000));
        let seen = stub.seen();
        assert_eq!(seen.len(), 1);
        let body: serde_json::Value = serde_json::from_str(&seen[0].body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "durationSeconds": 900,
                "profileArn": RA_PROFILE,
                "roleArn": ROLE,
                "trustAnchorArn": TRUST_ANCHOR,
                "roleSessionName": "workload-7",
            })
        );
    }
}

#[tokio::test]
async fn roles_anywhere_refuses_a_foreign_key_and_reports_a_refusal() {
    // A key that is not the certificate's: refused before anything is sent.
    let mismatched = pki(RSA_KEY);
    std::fs::write(&mismatched.key, EC_KEY_SEC1).unwrap();
    let error = s3_connector_host::credentials::RolesAnywhereProvider::new(
        &mismatched.certificate,
        &mismatched.key,
        TRUST_ANCHOR,
        RA_PROFILE,
        ROLE,
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.starts_with(
            "no credentials from roles-anywhere: the private key does not belong to the certificate"
        ) && error.contains(&mismatched.key.display().to_string()),
        "{error}"
    );

    // A service that checks against another public key refuses the signature; the error
    // carries its message and what to check.
    let pki = pki(RSA_KEY);
    let other = rcgen::KeyPair::from_pem(EC_KEY).unwrap().public_key_raw().to_vec();
    let stub = roles_anywhere_stub(&pki, "AWS4-X509-RSA-SHA256", other).await;
    let provider = s3_connector_host::credentials::RolesAnywhereProvider::new(
        &pki.certificate,
        &pki.key,
        TRUST_ANCHOR,
        RA_PROFILE,
        ROLE,
    )
    .unwrap()
    .with_chain(&pki.chain)
    .unwrap()
    .with_endpoint(&stub.url)
    .unwrap();
    let error = provider.credentials().await.unwrap_err().to_string();
    assert!(
        error.starts_with(
            "no credentials from roles-anywhere: CreateSession answered 403 Forbidden: the signature does not verify"
        ) && error.contains(TRUST_ANCHOR),
        "{error}"
    );
    assert_eq!(stub.seen().len(), 1);
}

/// Every secret a provider handles, each recognisable.
const SENTINELS: &[&str] = &[
    "SENTINEL-source-secret",
    "SENTINEL-source-token",
    "SENTINEL-sts-secret",
    "SENTINEL-sts-token",
    "SENTINEL-external-id",
    "SENTINEL-profile-secret",
    "SENTINEL-profile-token",
    "SENTINEL-process-secret",
    "SENTINEL-web-token",
    "SENTINEL-container-token",
    "SENTINEL-imds-token",
    "SENTINEL-ra-secret",
    "SENTINEL-ra-token",
];

/// Asserts that none of `texts` shows a sentinel, nor a line of a private key's PEM body.
fn assert_nothing_secret(texts: &[String], key_pems: &[&str]) {
    let key_lines: Vec<&str> = key_pems
        .iter()
        .flat_map(|pem| pem.lines())
        .filter(|line| !line.starts_with("-----") && line.len() > 16)
        .collect();
    assert!(!key_lines.is_empty());
    for text in texts {
        for secret in SENTINELS.iter().chain(key_lines.iter()) {
            assert!(!text.contains(secret), "{secret:?} shows in:\n{text}");
        }
    }
}

fn sentinel_sts_answer() -> String {
    format!(
        "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIASENTINEL</AccessKeyId>\
         <SecretAccessKey>SENTINEL-sts-secret</SecretAccessKey><SessionToken>SENTINEL-sts-token</SessionToken>\
         <Expiration>{}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>",
        in_an_hour()
    )
}

#[tokio::test]
async fn no_secret_shows_in_debug_display_or_errors() {
    let mut texts: Vec<String> = Vec::new();
    let source = || {
        Arc::new(StaticCredentials::new(
            "AKIDSOURCE",
            Secret::new("SENTINEL-source-secret"),
            Some(Secret::new("SENTINEL-source-token")),
        ))
    };

    // STS AssumeRole: the answer's secret and token, the source's keys, the external id.
    let sts = Stub::start(|seen| match seen.form("RoleSessionName").as_deref() {
        Some("refused") => (403, sts_error("AccessDenied", "not authorized")),
        Some("garbled") => (200, sentinel_sts_answer().replace("<Expiration>", "<Expiration>x")),
        _ => (200, sentinel_sts_answer()),
    })
    .await;
    let role = |name: &str| {
        AssumeRoleProvider::new(source(), ROLE)
            .unwrap()
            .with_endpoint(&sts.url)
            .unwrap()
            .with_external_id("SENTINEL-external-id")
            .with_session_name(name)
            .unwrap()
    };
    let cached = CachedProvider::new(Arc::new(role("fine")));
    let credentials = cached.credentials().await.unwrap();
    assert_eq!(credentials.secret_access_key.expose(), "SENTINEL-sts-secret");
    texts.push(format!("{credentials:?}"));
    texts.push(format!("{cached:?}"));
    for name in ["refused", "garbled"] {
        let error = role(name).credentials().await.unwrap_err();
        texts.push(format!("{error} {error:?}"));
        texts.push(format!("{:?}", role(name)));
    }

    // Profile files: keys, a token, a half-configured profile, a credential_process that
    // prints its secret in an answer it gets wrong.
    let dir = tempfile::tempdir().unwrap();
    #[cfg(unix)]
    let process_line = {
        let script = dir.path().join("creds.sh");
        std::fs::write(
            &script,
            "#!/bin/sh\nprintf '{\"Version\":1,\"SecretAccessKey\":\"SENTINEL-process-secret\"}'\n",
        )
        .unwrap();
        format!("[profile process]\ncredential_process = sh {}\n", script.display())
    };
    #[cfg(not(unix))]
    let process_line = String::new();
    std::fs::write(dir.path().join("config"), process_line).unwrap();
    std::fs::write(
        dir.path().join("credentials"),
        "[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = SENTINEL-profile-secret\n\
         aws_session_token = SENTINEL-profile-token\n[half]\naws_secret_access_key = SENTINEL-profile-secret\n",
    )
    .unwrap();
    let lookup = profile_lookup(dir.path(), vec![]);
    let profile = ProfileProvider::load(&lookup, None).unwrap().unwrap();
    texts.push(format!("{profile:?}"));
    texts.push(format!("{:?}", profile.credentials().await.unwrap()));
    let settings = s3_connector_host::credentials::ProfileSettings::load(&lookup, None).unwrap();
    texts.push(format!("{settings:?}"));
    let chain = default_chain(&lookup, None).unwrap();
    texts.push(format!("{chain:?} {}", chain.description()));
    let error = ProfileProvider::load(&lookup, Some("half")).unwrap_err();
    texts.push(format!("{error} {error:?}"));
    #[cfg(unix)]
    {
        let provider = ProfileProvider::load(&lookup, Some("process")).unwrap().unwrap();
        let error = provider.credentials().await.unwrap_err();
        texts.push(format!("{provider:?} {error} {error:?}"));
    }

    // Web identity: the token file's contents.
    let refusing_sts = Stub::start(|_| (400, sts_error("InvalidIdentityToken", "expired"))).await;
    let token = dir.path().join("web-token");
    std::fs::write(&token, "SENTINEL-web-token").unwrap();
    let web = WebIdentityProvider::new(&token, ROLE).unwrap().with_endpoint(&refusing_sts.url).unwrap();
    let error = web.credentials().await.unwrap_err();
    texts.push(format!("{web:?} {error} {error:?}"));

    // The container endpoint: its authorization token, given and from a file.
    let agent = Stub::start(|_| (401, "denied".to_owned())).await;
    let container = ContainerProvider::new(&format!("{}/creds", agent.url))
        .unwrap()
        .with_token(Secret::new("SENTINEL-container-token"));
    let error = container.credentials().await.unwrap_err();
    texts.push(format!("{container:?} {error} {error:?}"));
    let token_file = dir.path().join("container-token");
    std::fs::write(&token_file, "SENTINEL-container-token").unwrap();
    let from_file =
        ContainerProvider::new(&format!("{}/creds", agent.url)).unwrap().with_token_file(&token_file);
    let error = from_file.credentials().await.unwrap_err();
    texts.push(format!("{from_file:?} {error} {error:?}"));
    assert!(agent.seen().iter().all(|s| s.header("authorization") == Some("SENTINEL-container-token")));

    // IMDS: the session token it hands out.
    let imds = Stub::start(|seen| match (seen.method.as_str(), seen.path.as_str()) {
        ("PUT", _) => (200, "SENTINEL-imds-token".to_owned()),
        (_, "/latest/meta-data/iam/security-credentials/") => (200, "r".to_owned()),
        _ => (500, "broken".to_owned()),
    })
    .await;
    let provider = ImdsProvider::new(&imds.url).unwrap();
    let error = provider.credentials().await.unwrap_err();
    texts.push(format!("{provider:?} {error} {error:?}"));

    // Roles Anywhere: the private key's contents, a corrupt key, and the answer's secrets.
    let pki = pki(RSA_KEY);
    let ra = Stub::start(|_| {
        (
            200,
            format!(
                r#"{{"credentialSet":[{{"credentials":{{"accessKeyId":"ASIARA","secretAccessKey":"SENTINEL-ra-secret","sessionToken":"SENTINEL-ra-token","expiration":"{}"}}}}]}}"#,
                in_an_hour()
            ),
        )
    })
    .await;
    let provider = s3_connector_host::credentials::RolesAnywhereProvider::new(
        &pki.certificate,
        &pki.key,
        TRUST_ANCHOR,
        RA_PROFILE,
        ROLE,
    )
    .unwrap()
    .with_endpoint(&ra.url)
    .unwrap();
    let cached = CachedProvider::new(Arc::new(provider));
    let credentials = cached.credentials().await.unwrap();
    assert_eq!(credentials.secret_access_key.expose(), "SENTINEL-ra-secret");
    texts.push(format!("{cached:?} {credentials:?}"));
    let corrupt = RSA_KEY.replace("MII", "XYZ");
    std::fs::write(&pki.key, &corrupt).unwrap();
    let error = s3_connector_host::credentials::RolesAnywhereProvider::new(
        &pki.certificate,
        &pki.key,
        TRUST_ANCHOR,
        RA_PROFILE,
        ROLE,
    )
    .unwrap_err();
    texts.push(format!("{error} {error:?}"));
    let identity = s3_connector_host::internals::X509Identity::from_pem(
        &std::fs::read_to_string(&pki.certificate).unwrap(),
        RSA_KEY,
        None,
    )
    .unwrap();
    texts.push(format!("{identity:?}"));

    assert_eq!(texts.len(), 19);
    assert_nothing_secret(&texts, &[RSA_KEY, &corrupt]);
    // The check itself catches a secret and a key line.
    let leaked = credentials.secret_access_key.expose().to_owned();
    assert!(
        std::panic::catch_unwind(|| assert_nothing_secret(std::slice::from_ref(&leaked), &[RSA_KEY]))
            .is_err()
    );
    let key_line = RSA_KEY.lines().nth(3).unwrap().to_owned();
    assert!(
        std::panic::catch_unwind(|| assert_nothing_secret(std::slice::from_ref(&key_line), &[RSA_KEY]))
            .is_err()
    );
}
