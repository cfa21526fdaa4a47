//! The audit log against the embedded s3s-fs store on 127.0.0.1:0: a record per allowed and
//! denied request with its fields, presigned URLs and refused scopes recorded, the CLI's
//! `--audit`, and no secret, signature or credential in any record.

use crate::common;

use std::sync::Arc;

use common::{builder_for, connector_for};
use s3_connector_host::ObjectRef;
use s3_connector_host::Secret;
use s3_connector_host::audit::{AuditRecord, Decision, Kind, MemorySink};
use s3_connector_host::types::{PresignMethod, PresignRequest};
use s3_connector_local_store::LocalS3;
use tokio::process::Command;

const ACCESS_KEY: &str = "AKAUDITSENTINEL00001";
/// Recognisable, so that a test can search the audit output for them.
const SECRET: &str = "SECRET-audit-sentinel-3b9e1d-never-log-me";
const SESSION_TOKEN: &str = "TOKEN-audit-sentinel-c47a02-never-log-me";

fn find<'a>(records: &'a [AuditRecord], action: &str, decision: Decision) -> &'a AuditRecord {
    records
        .iter()
        .find(|r| r.action.as_deref() == Some(action) && r.decision == decision)
        .unwrap_or_else(|| panic!("no {decision:?} {action} record in {records:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_and_denied_requests_are_recorded_with_their_rule_status_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), "AKAUDIT0000000000001", Secret::new("audit-secret")).await.unwrap();
    connector_for(&s3, &[]).create_bucket("audited").await.unwrap();
    let memory = Arc::new(MemorySink::default());
    let connector = builder_for(&s3, &["audited/in/=read,write,list"])
        .tenant("team-a")
        .audit(memory.clone())
        .build()
        .unwrap();

    connector
        .put_object_bytes(&ObjectRef::new("audited", "in/a.txt"), b"hello", Default::default())
        .await
        .unwrap();
    connector
        .get_object(&ObjectRef::new("audited", "in/a.txt"), tokio::io::sink(), Default::default())
        .await
        .unwrap();
    let before = s3.requests_received();
    let denied = connector
        .put_object_bytes(&ObjectRef::new("audited", "out/b.txt"), b"nope", Default::default())
        .await;
    assert!(matches!(denied, Err(s3_connector_host::Error::Denied(_))), "{denied:?}");
    assert_eq!(s3.requests_received(), before, "a denied request reached the server");
    let missing = connector.head_object(&ObjectRef::new("audited", "in/missing.txt")).await;
    assert!(missing.is_err());

    let records = memory.records();
    assert_eq!(records.len(), 4, "{records:#?}");
    assert!(records.iter().all(|r| r.tenant == "team-a" && r.kind == Kind::Request));

    let put = find(&records, "PutObject", Decision::Allowed);
    assert_eq!(put.access.as_deref(), Some("write"));
    assert_eq!(put.method.as_deref(), Some("PUT"));
    assert_eq!((put.bucket.as_deref(), put.key.as_deref()), (Some("audited"), Some("in/a.txt")));
    assert_eq!(put.rule.as_deref(), Some("audited/in/=read,write,list"));
    assert_eq!((put.status, put.bytes_sent, put.reason.as_deref()), (Some(200), 5, None));
    assert!(put.request_id.as_deref().is_some_and(|id| id.starts_with("LOCAL")), "{put:?}");
    assert!(put.time.ends_with('Z') && put.time.len() == "2026-11-28T22:23:22.123Z".len(), "{}", put.time);

    let get = find(&records, "GetObject", Decision::Allowed);
    assert_eq!((get.access.as_deref(), get.status), (Some("read"), Some(200)));
    assert_eq!((get.bytes_sent, get.bytes_received), (0, 5));
    assert_ne!(get.request_id, put.request_id);

    let refused = find(&records, "PutObject", Decision::Denied);
    assert_eq!(refused.key.as_deref(), Some("out/b.txt"));
    assert_eq!((refused.status, refused.rule.as_deref(), refused.request_id.as_deref()), (None, None, None));
    let reason = refused.reason.as_deref().unwrap_or_default();
    assert!(reason.contains("needs 'write'") && reason.contains("s3://audited/out/b.txt"), "{reason}");

    let head = find(&records, "HeadObject", Decision::Allowed);
    assert_eq!(head.status, Some(404));

    // A scope the policy never grants is refused before any request, and recorded too.
    let before = memory.records().len();
    assert!(connector.create_bucket("other").await.is_err());
    let records = memory.records();
    let scope = &records[before];
    assert_eq!((scope.kind, scope.decision), (Kind::Credentials, Decision::Denied));
    assert_eq!((scope.access.as_deref(), scope.bucket.as_deref()), (Some("admin"), Some("other")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_urls_are_recorded_without_their_signature() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), ACCESS_KEY, Secret::new(SECRET)).await.unwrap();
    let records = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let collected = records.clone();
    // An embedder's callback as the sink.
    let callback = move |record: &AuditRecord| collected.lock().unwrap().push(record.to_json_line());
    let connector =
        builder_for(&s3, &["bkt/pub/=read"]).tenant("edge").audit(Arc::new(callback)).build().unwrap();
    let presign = |key: &str, method| PresignRequest {
        method,
        object: ObjectRef::new("bkt", key),
        expires_in_seconds: 600,
    };
    let url = connector.presign(presign("pub/a.txt", PresignMethod::Get)).await.unwrap();
    assert!(url.contains("X-Amz-Signature=") && url.contains(ACCESS_KEY), "{url}");
    // Outside the rule's prefix: the plugin gets credentials for the bucket, the host refuses
    // the URL it signed.
    assert!(connector.presign(presign("priv/a.txt", PresignMethod::Get)).await.is_err());

    let lines = records.lock().unwrap().clone();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let allowed: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(allowed["kind"], "presign");
    assert_eq!(allowed["decision"], "allowed");
    assert_eq!(allowed["action"], "GetObject");
    assert_eq!(allowed["rule"], "bkt/pub/=read");
    assert_eq!(allowed["tenant"], "edge");
    let denied: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!((denied["decision"].as_str(), denied["kind"].as_str()), (Some("denied"), Some("presign")));
    assert_eq!(denied["key"], "priv/a.txt");
    assert!(denied["reason"].as_str().unwrap_or_default().contains("needs 'read'"), "{denied}");
    let signature = url.split("X-Amz-Signature=").nth(1).unwrap_or_default();
    assert!(signature.len() >= 64, "{url}");
    for line in &lines {
        for secret in [SECRET, signature, ACCESS_KEY, "X-Amz-Signature", "X-Amz-Credential"] {
            assert!(!line.contains(secret), "{secret:?} in {line}");
        }
    }
}

fn cli(endpoint: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_s3-connector"));
    let nowhere = std::env::temp_dir().join("s3-connector-tests-no-such-aws-dir");
    for name in ["AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_DEFAULT_REGION"]
    {
        command.env_remove(name);
    }
    command
        .env("AWS_CONFIG_FILE", nowhere.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", nowhere.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        // s3s-fs ignores session tokens; the token is here to be searched for in the log.
        .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
        .args(["--endpoint", endpoint, "--path-style"])
        .kill_on_drop(true);
    command
}

async fn run(command: &mut Command, args: &[&str]) -> (i32, String, String) {
    let output = command.args(args).output().await.expect("the binary runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_appends_to_its_audit_file_and_never_logs_a_secret() {
    let store = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(store.path(), ACCESS_KEY, Secret::new(SECRET)).await.unwrap();
    let endpoint = s3.endpoint();
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("audit.jsonl");
    let file = work.path().join("f.txt");
    std::fs::write(&file, b"0123456789").unwrap();
    let (log_arg, file_arg) = (log.to_str().unwrap(), file.to_str().unwrap());
    let audited = |extra: &[&str]| {
        let mut command = cli(&endpoint);
        command.args(["--audit", log_arg, "--tenant", "cli-tenant"]).args(extra);
        command
    };

    assert_eq!(run(&mut audited(&[]), &["mb", "s3://logged"]).await.0, 0);
    let policy = ["--allow", "logged/in/"];
    assert_eq!(run(&mut audited(&policy), &["cp", file_arg, "s3://logged/in/f.txt"]).await.0, 0);
    let (code, url, _) = run(&mut audited(&policy), &["presign", "s3://logged/in/f.txt"]).await;
    assert_eq!(code, 0);
    assert!(url.contains("X-Amz-Signature=") && url.contains("X-Amz-Security-Token="), "{url}");
    let (code, _, stderr) = run(&mut audited(&policy), &["cp", file_arg, "s3://logged/out/f.txt"]).await;
    assert_eq!(code, 3, "{stderr}");
    let (code, _, _) = run(&mut audited(&policy), &["cp", "s3://logged/in/f.txt", "-"]).await;
    assert_eq!(code, 0);

    let text = std::fs::read_to_string(&log).unwrap();
    let records: Vec<serde_json::Value> =
        text.lines().map(|line| serde_json::from_str(line).expect("one JSON object per line")).collect();
    let actions: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r["action"].as_str().unwrap_or("-"), r["decision"].as_str().unwrap_or("-")))
        .collect();
    assert_eq!(
        actions,
        [
            ("CreateBucket", "allowed"),
            ("PutObject", "allowed"),
            ("GetObject", "allowed"),
            ("PutObject", "denied"),
            ("GetObject", "allowed"),
        ],
        "{text}"
    );
    assert!(records.iter().all(|r| r["tenant"] == "cli-tenant"), "{text}");
    assert_eq!(records[1]["bytes_sent"], 10);
    assert_eq!(records[4]["bytes_received"], 10);
    assert_eq!(records[2]["kind"], "presign");

    let signature = url.trim().split("X-Amz-Signature=").nth(1).unwrap_or_default();
    assert!(signature.len() >= 64, "{url}");
    for secret in
        [SECRET, SESSION_TOKEN, signature, ACCESS_KEY, "X-Amz-", "Signature=", "Credential=", "Authorization"]
    {
        assert!(!text.contains(secret), "{secret:?} in the audit log:\n{text}");
    }

    // `-` is stderr, where each record is a JSON line too (`--allow '*'`: no default-policy warning).
    let mut to_stderr = cli(&endpoint);
    to_stderr.args(["--audit", "-", "--allow", "*"]);
    let (code, _, stderr) = run(&mut to_stderr, &["ls", "s3://logged"]).await;
    assert_eq!(code, 0, "{stderr}");
    let record: serde_json::Value = serde_json::from_str(stderr.lines().next().unwrap_or("")).unwrap();
    assert_eq!(
        (record["action"].as_str(), record["tenant"].as_str()),
        (Some("ListObjectsV2"), Some("default"))
    );
    assert!(!stderr.contains(SECRET) && !stderr.contains(SESSION_TOKEN));
}
