//! `--no-sign-request` and `--request-payer requester` on the wire (s3s-fs has neither
//! anonymous access nor requester pays): what the recording server receives, that the policy
//! still stops an unsigned request before it leaves, the config-file equivalents, and a JSON
//! action's `requestPayer`.

use crate::common;

use common::cli_binary::{self, Run};
use common::recording_server::{Answer, RecordingServer};

/// The answer of a HEAD on an object: 200, no body.
fn object_answer() -> Answer {
    Answer {
        status: 200,
        headers: vec![("content-length", "0".to_owned()), ("etag", "\"e\"".to_owned())],
        body: String::new(),
    }
}

async fn run(server: &RecordingServer, args: &[&str]) -> Run {
    cli_binary::run(&server.endpoint, args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_requests_carry_no_signature_and_still_obey_the_policy() {
    let server = RecordingServer::start().await;
    server.answer(object_answer());
    let flags = ["--no-sign-request", "--request-payer", "requester", "--allow", "open-data/in/=read"];

    let allowed = run(&server, &[&flags[..], &["head", "s3://open-data/in/a.csv"]].concat()).await;
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let sent = &requests[0];
    for header in ["authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"] {
        assert_eq!(sent.header(header), None, "{header} on an unsigned request: {sent:?}");
    }
    assert_eq!(sent.header("x-amz-request-payer"), Some("requester"));
    assert!(!sent.uri.contains("X-Amz-"), "{}", sent.uri);

    // Outside the rules: refused by the host, nothing sent.
    let denied = run(&server, &[&flags[..], &["head", "s3://other-data/a.csv"]].concat()).await;
    assert_eq!(denied.code, 3, "{}", denied.stderr);
    assert_eq!(server.requests().len(), 1, "a denied unsigned request reached the server");

    // Nothing to sign a URL with.
    let presign = run(&server, &[&flags[..], &["presign", "s3://open-data/in/a.csv"]].concat()).await;
    assert_ne!(presign.code, 0);
    assert!(presign.stderr.contains("needs credentials"), "{}", presign.stderr);
    assert!(!presign.stdout.contains("X-Amz-Signature"), "{}", presign.stdout);

    // The keys in the environment are not even looked at.
    assert!(!allowed.stderr.contains(cli_binary::SECRET) && !allowed.stdout.contains(cli_binary::SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_file_says_the_same_and_a_json_action_can_pay() {
    let server = RecordingServer::start().await;
    server.answer(object_answer());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("s3-connector.toml");
    std::fs::write(&config, "no_sign_request = true\nrequest_payer = \"requester\"\n").unwrap();
    let config = config.to_str().unwrap();
    let head =
        run(&server, &["--config", config, "--allow", "open-data=read", "head", "s3://open-data/a"]).await;
    assert_eq!(head.code, 0, "{}", head.stderr);
    let sent = server.requests().pop().unwrap();
    assert_eq!((sent.header("authorization"), sent.header("x-amz-request-payer")), (None, Some("requester")));

    std::fs::write(dir.path().join("bad.toml"), "request_payer = \"owner\"\n").unwrap();
    let bad = dir.path().join("bad.toml");
    let refused = run(&server, &["--config", bad.to_str().unwrap(), "head", "s3://open-data/a"]).await;
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("request_payer") && refused.stderr.contains("requester"),
        "{}",
        refused.stderr
    );

    // Signed (the environment's keys), paying for this one action only: the header is signed.
    let action = r#"{"action":"headObject","bucket":"open-data","key":"a","requestPayer":"requester"}"#;
    let invoked = run(&server, &["--allow", "open-data=read", "invoke", action]).await;
    assert_eq!(invoked.code, 0, "{} {}", invoked.stdout, invoked.stderr);
    let sent = server.requests().pop().unwrap();
    assert_eq!(sent.header("x-amz-request-payer"), Some("requester"));
    assert!(sent.signed_headers().contains(&"x-amz-request-payer".to_owned()), "{sent:?}");
    let plain = run(
        &server,
        &["--allow", "open-data=read", "invoke", r#"{"action":"headObject","bucket":"open-data","key":"a"}"#],
    )
    .await;
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert_eq!(server.requests().pop().unwrap().header("x-amz-request-payer"), None);
    let wrong = run(
        &server,
        &[
            "--allow",
            "open-data=read",
            "invoke",
            r#"{"action":"headObject","bucket":"open-data","key":"a","requestPayer":"owner"}"#,
        ],
    )
    .await;
    assert!(
        wrong.stdout.contains("requestPayer") && wrong.stdout.contains("invalid-field"),
        "{}",
        wrong.stdout
    );
}
