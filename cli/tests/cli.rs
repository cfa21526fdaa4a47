//! The `s3-connector` binary end to end, against the embedded s3s-fs store on 127.0.0.1:0.

use crate::common;

use std::path::Path;
use std::process::Output;

use common::recording_server::{Answer, RecordingServer};

use s3_connector_host::Secret;
use s3_connector_local_store::LocalS3;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

const ACCESS_KEY: &str = "AKCLITESTKEY0000001";
/// Recognisable, so that a test can search every output for it.
const SECRET: &str = "SECRET-sentinel-7f3a9c-never-print-me";
const SESSION_TOKEN: &str = "TOKEN-sentinel-51d2e8-never-print-me";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
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

fn command(endpoint: &str) -> Command {
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
        // The network settings of the machine running the tests must not steer the binary.
        "AWS_CA_BUNDLE",
        "AWS_USE_FIPS_ENDPOINT",
        "AWS_USE_DUALSTACK_ENDPOINT",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        command.env_remove(name);
    }
    // The default chain must never read the developer's ~/.aws or reach out to IMDS.
    let nowhere = std::env::temp_dir().join("s3-connector-tests-no-such-aws-dir");
    command
        .env("AWS_CONFIG_FILE", nowhere.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", nowhere.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .args(["--endpoint", endpoint, "--path-style"])
        .kill_on_drop(true);
    command
}

async fn run(endpoint: &str, args: &[&str]) -> Run {
    command(endpoint).args(args).output().await.expect("the binary runs").into()
}

async fn run_with_stdin(endpoint: &str, args: &[&str], stdin: &[u8]) -> Run {
    let mut child = command(endpoint)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut input = child.stdin.take().expect("piped stdin");
    input.write_all(stdin).await.expect("stdin takes the bytes");
    drop(input);
    child.wait_with_output().await.expect("the binary ends").into()
}

async fn server(dir: &Path) -> LocalS3 {
    LocalS3::start(dir, ACCESS_KEY, Secret::new(SECRET)).await.expect("the store starts")
}

/// The keys of `ls --json`'s lines (one JSON object a line; prefixes and the summary have none).
fn listed_keys(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter_map(|line| line["key"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_the_whole_scenario() {
    let run = run("http://127.0.0.1:1", &["demo"]).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for expected in
        ["make bucket s3://demo-photos", "SHA-256 matches", "refused as expected", "remove bucket"]
    {
        assert!(run.stdout.contains(expected), "missing {expected:?} in:\n{}", run.stdout);
    }
    assert!(!run.stdout.contains("DIFFERS"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_list_head_download_delete() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("report.csv");
    std::fs::write(&file, b"a,b\n1,2\n").unwrap();

    assert_eq!(run(&endpoint, &["mb", "s3://cli-bucket"]).await.stdout, "make_bucket: cli-bucket\n");
    let up =
        run(&endpoint, &["cp", file.to_str().unwrap(), "s3://cli-bucket/in/", "--content-type", "text/csv"])
            .await;
    assert_eq!(
        (up.code, up.stdout.trim()),
        (0, format!("upload: {} to s3://cli-bucket/in/report.csv", file.display()).as_str())
    );
    let piped =
        run_with_stdin(&endpoint, &["cp", "-", "s3://cli-bucket/in/stdin.bin"], &[7u8; 100_000]).await;
    assert_eq!(piped.code, 0, "{}", piped.stderr);

    let ls = run(&endpoint, &["ls", "s3://cli-bucket/in/"]).await;
    assert!(ls.stdout.contains(" report.csv\n") && ls.stdout.contains(" stdin.bin\n"), "{}", ls.stdout);
    let top = run(&endpoint, &["ls", "s3://cli-bucket"]).await;
    assert!(top.stdout.contains("PRE in/"), "{}", top.stdout);
    let keys =
        listed_keys(&run(&endpoint, &["--json", "ls", "s3://cli-bucket/", "--recursive"]).await.stdout);
    assert_eq!(keys, ["in/report.csv", "in/stdin.bin"]);

    let head: serde_json::Value =
        serde_json::from_str(&run(&endpoint, &["head", "s3://cli-bucket/in/report.csv"]).await.stdout)
            .unwrap();
    assert_eq!((head["size"].as_u64(), head["contentType"].as_str()), (Some(8), Some("text/csv")));

    let down = run(
        &endpoint,
        &["cp", "s3://cli-bucket/in/report.csv", work.path().join("copy.csv").to_str().unwrap()],
    )
    .await;
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(std::fs::read(work.path().join("copy.csv")).unwrap(), b"a,b\n1,2\n");
    let into_dir =
        run(&endpoint, &["cp", "s3://cli-bucket/in/stdin.bin", &format!("{}/", work.path().display())]).await;
    assert_eq!(into_dir.code, 0, "{}", into_dir.stderr);
    assert_eq!(std::fs::read(work.path().join("stdin.bin")).unwrap(), vec![7u8; 100_000]);
    let stdout = command(&endpoint).args(["cp", "s3://cli-bucket/in/stdin.bin", "-"]).output().await.unwrap();
    assert_eq!(stdout.stdout, vec![7u8; 100_000]);

    assert_eq!(run(&endpoint, &["rm", "s3://cli-bucket/in/report.csv"]).await.code, 0);
    assert_eq!(run(&endpoint, &["rm", "s3://cli-bucket/in/stdin.bin"]).await.code, 0);
    assert_eq!(run(&endpoint, &["rb", "s3://cli-bucket"]).await.stdout, "remove_bucket: cli-bucket\n");
    assert!(!store_dir.path().join("cli-bucket").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_and_one_line_errors() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://codes"]).await.code, 0);

    let bad_name = run(&endpoint, &["mb", "s3://Bad_Bucket"]).await;
    assert_eq!(bad_name.code, 2);
    assert!(
        bad_name.stderr.contains("\"Bad_Bucket\"") && bad_name.stderr.contains("lower-case"),
        "{}",
        bad_name.stderr
    );

    let before = s3.requests_received();
    let denied = run(&endpoint, &["--allow", "codes/public/=read", "cp", "-", "s3://codes/private/x"]).await;
    assert_eq!(denied.code, 3, "{}", denied.stderr);
    assert!(denied.stderr.starts_with("s3-connector: denied by the host's policy"), "{}", denied.stderr);
    assert_eq!(denied.stderr.lines().count(), 1, "{}", denied.stderr);
    assert_eq!(s3.requests_received(), before, "a denied request reached the server");

    let missing = run(&endpoint, &["head", "s3://codes/nothing-here"]).await;
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("s3://codes/nothing-here does not exist"), "{}", missing.stderr);

    let json = run(&endpoint, &["--json", "head", "s3://codes/nothing-here"]).await;
    // Every stderr line is JSON: the allow-all default's warning, then the error.
    let lines: Vec<serde_json::Value> =
        json.stderr.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect();
    assert_eq!(lines[0]["warning"]["code"], "allow-all-default", "{}", json.stderr);
    assert_eq!(lines[1]["error"]["code"], "no-such-key");

    let unreachable = run("http://127.0.0.1:1", &["ls", "s3://codes"]).await;
    assert_eq!(unreachable.code, 1);
    assert!(unreachable.stderr.contains("127.0.0.1:1"), "{}", unreachable.stderr);

    let no_credentials = command(&endpoint)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["ls"])
        .output()
        .await
        .unwrap();
    let no_credentials = Run::from(no_credentials);
    assert_eq!(no_credentials.code, 2);
    assert!(
        no_credentials.stderr.contains("AWS_ACCESS_KEY_ID")
            && no_credentials.stderr.contains("--access-key-id"),
        "{}",
        no_credentials.stderr
    );

    let usage = run(&endpoint, &["cp", "only-one-argument"]).await;
    assert_eq!(usage.code, 2);
    let bad_rule = run(&endpoint, &["--allow", "codes=rwx", "ls", "s3://codes"]).await;
    assert_eq!(bad_rule.code, 2);
    assert!(bad_rule.stderr.contains("\"rwx\""), "{}", bad_rule.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_profile_supplies_keys_and_region_and_verbose_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = server(dir.path()).await;
    let endpoint = s3.endpoint();
    let aws = tempfile::tempdir().unwrap();
    let credentials = aws.path().join("credentials");
    let config = aws.path().join("config");
    std::fs::write(
        &credentials,
        format!("[work]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET}\n"),
    )
    .unwrap();
    std::fs::write(&config, "[profile work]\nregion = eu-west-3\n").unwrap();
    let with_profile = |args: &[&str]| {
        let mut command = command(&endpoint);
        command
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .env("AWS_CONFIG_FILE", &config)
            .args(args);
        command
    };

    let made =
        Run::from(with_profile(&["--profile", "work", "-v", "mb", "s3://profiled"]).output().await.unwrap());
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert!(made.stderr.contains("credentials from the default chain: profile `work`"), "{}", made.stderr);
    assert!(!made.stderr.contains(SECRET) && !made.stdout.contains(SECRET), "{}", made.stderr);
    // The profile's region is the one the request was signed for (s3s-fs accepts any region,
    // so the presigned URL shows it).
    let url =
        Run::from(with_profile(&["--profile", "work", "presign", "s3://profiled/k"]).output().await.unwrap());
    assert!(url.stdout.contains("%2Feu-west-3%2Fs3%2Faws4_request"), "{}", url.stdout);

    let missing = Run::from(with_profile(&["--profile", "nope", "ls"]).output().await.unwrap());
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("profile `nope` is not defined"), "{}", missing.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_runs_json_actions_from_an_argument_a_file_or_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = server(dir.path()).await;
    let endpoint = s3.endpoint();
    let docs = tempfile::tempdir().unwrap();
    std::fs::write(docs.path().join("in.txt"), "document body").unwrap();
    let docs_dir = docs.path().to_str().unwrap();
    let answer = |run: &Run| -> serde_json::Value { serde_json::from_str(&run.stdout).unwrap() };

    let made = run(&endpoint, &["invoke", r#"{"action":"createBucket","bucket":"acts"}"#]).await;
    assert_eq!((made.code, answer(&made)["bucket"].as_str()), (0, Some("acts")), "{}", made.stderr);
    let request = docs.path().join("upload.json");
    std::fs::write(
        &request,
        r#"{"action":"uploadDocument","bucket":"acts","document":{"storeId":"fs","documentId":"in.txt"}}"#,
    )
    .unwrap();
    let uploaded =
        run(&endpoint, &["invoke", &format!("@{}", request.display()), "--documents", docs_dir]).await;
    assert_eq!(uploaded.code, 0, "{}{}", uploaded.stdout, uploaded.stderr);
    assert_eq!(answer(&uploaded)["key"], "in.txt");
    assert_eq!(answer(&uploaded)["contentType"], "text/plain");
    let downloaded = run_with_stdin(
        &endpoint,
        &["invoke", "-", "--documents", docs_dir],
        br#"{"action":"downloadDocument","bucket":"acts","key":"in.txt","createDocument":true}"#,
    )
    .await;
    assert_eq!(downloaded.code, 0, "{}", downloaded.stderr);
    let id = answer(&downloaded)["document"]["documentId"].as_str().unwrap().to_owned();
    assert_eq!(std::fs::read_to_string(docs.path().join(id)).unwrap(), "document body");

    let bad = run(&endpoint, &["invoke", r#"{"action":"headObject","bucket":"acts"}"#]).await;
    assert_eq!(bad.code, 2);
    assert_eq!(answer(&bad)["error"]["code"], "invalid-field", "the error JSON is on stdout");
    let denied = run(
        &endpoint,
        &["--allow", "other", "invoke", r#"{"action":"headObject","bucket":"acts","key":"in.txt"}"#],
    )
    .await;
    assert_eq!(denied.code, 3);
    assert_eq!(answer(&denied)["error"]["code"], "denied-by-host");
    let missing = run(&endpoint, &["invoke", "@/nonexistent/request.json"]).await;
    assert_eq!(missing.code, 2);
    // Found before the action ran, and still the JSON error object on stdout (issue 30).
    let message = answer(&missing)["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("/nonexistent/request.json"), "{}{}", missing.stdout, missing.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_download_leaves_nothing_behind() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://partial"]).await.code, 0);
    let work = tempfile::tempdir().unwrap();
    let target = work.path().join("never.bin");
    let failed = run(&endpoint, &["cp", "s3://partial/missing.bin", target.to_str().unwrap()]).await;
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0, "the work directory must stay empty");
}

/// `--checksum-algorithm` on upload; an object altered on the server's disk after it was stored
/// fails its checksum on download, and the CLI leaves no file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_download_fails_its_checksum_and_leaves_nothing() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://sums"]).await.code, 0);
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("data.bin");
    std::fs::write(&file, vec![5u8; 200_000]).unwrap();
    let up = run(
        &endpoint,
        &["cp", file.to_str().unwrap(), "s3://sums/data.bin", "--checksum-algorithm", "crc32c"],
    )
    .await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    let bad =
        run(&endpoint, &["cp", file.to_str().unwrap(), "s3://sums/x", "--checksum-algorithm", "md5"]).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);

    let stored = store_dir.path().join("sums").join("data.bin");
    let mut altered = std::fs::read(&stored).unwrap();
    altered[123_456] = 6;
    std::fs::write(&stored, altered).unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let target = downloads.path().join("data.bin");
    let failed = run(&endpoint, &["cp", "s3://sums/data.bin", target.to_str().unwrap()]).await;
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(failed.stderr.contains("x-amz-checksum-crc32c"), "{}", failed.stderr);
    assert_eq!(std::fs::read_dir(downloads.path()).unwrap().count(), 0, "no file, not even a partial one");
}

/// `--parallel-ranges`: a download in ranges side by side gives the same file; the flag is
/// refused on uploads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_in_parallel_ranges() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://ranges"]).await.code, 0);
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("data.bin");
    let body: Vec<u8> = (0..3_500_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&file, &body).unwrap();
    let up = run(&endpoint, &["cp", file.to_str().unwrap(), "s3://ranges/data.bin"]).await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    let refused =
        run(&endpoint, &["cp", file.to_str().unwrap(), "s3://ranges/x", "--parallel-ranges", "2"]).await;
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("downloads only"), "{}", refused.stderr);

    let target = work.path().join("back.bin");
    let args = [
        "cp",
        "s3://ranges/data.bin",
        target.to_str().unwrap(),
        "--parallel-ranges",
        "3",
        "--range-size-mib",
        "1",
    ];
    let down = run(&endpoint, &args).await;
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(std::fs::read(&target).unwrap(), body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_any_output() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("bad.toml");
    std::fs::write(&config, format!("[credentials]\naccess_key_id = \"{ACCESS_KEY}\"\nsecret_access_key = \"{SECRET}\"\nsurprise = 1\n")).unwrap();
    let config = config.to_str().unwrap().to_owned();

    let mut outputs = Vec::new();
    for args in [
        vec!["mb", "s3://secrets"],
        vec!["ls"],
        vec!["--json", "ls", "s3://secrets"],
        vec!["head", "s3://secrets/missing"],
        vec!["--allow", "other=read", "ls", "s3://secrets"],
        vec!["--secret-access-key", "wrong-secret", "--access-key-id", ACCESS_KEY, "ls", "s3://secrets"],
        vec![
            "--session-token",
            SESSION_TOKEN,
            "--access-key-id",
            ACCESS_KEY,
            "--secret-access-key",
            SECRET,
            "ls",
            "s3://secrets",
        ],
        vec!["--config", &config, "ls"],
        vec!["--endpoint", "http://127.0.0.1:1", "ls"],
        vec!["--help"],
    ] {
        let run = run(&endpoint, &args).await;
        outputs.push((args.join(" "), run.stdout, run.stderr));
    }
    outputs.push(("demo".into(), run(&endpoint, &["demo"]).await.stdout, String::new()));
    for (args, stdout, stderr) in &outputs {
        for secret in [SECRET, SESSION_TOKEN] {
            assert!(
                !stdout.contains(secret) && !stderr.contains(secret),
                "`{args}` printed a secret:\n{stdout}\n{stderr}"
            );
        }
    }
    // The failing runs did fail, so the check above covered error paths too.
    assert!(outputs.iter().filter(|(_, _, stderr)| !stderr.is_empty()).count() >= 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presign_with_a_pinned_clock_and_move_objects() {
    let aws = Command::new(env!("CARGO_BIN_EXE_s3-connector"))
        .args([
            "--endpoint",
            "https://s3.amazonaws.com",
            "--region",
            "us-east-1",
            "--at",
            "2013-05-24T00:00:00Z",
        ])
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        .args(["presign", "s3://examplebucket/test.txt", "--expires-in", "86400"])
        .output()
        .await
        .unwrap();
    let url = String::from_utf8(aws.stdout).unwrap();
    assert!(
        url.ends_with("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404\n"),
        "{url}"
    );
    let bad_time =
        run("http://127.0.0.1:1", &["--at", "yesterday", "presign", "s3://examplebucket/test.txt"]).await;
    assert_eq!(bad_time.code, 2);
    assert!(bad_time.stderr.contains("\"yesterday\""), "{}", bad_time.stderr);

    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://moves"]).await.code, 0);
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("a.txt");
    std::fs::write(&file, b"moving").unwrap();
    let up = run(&endpoint, &["mv", file.to_str().unwrap(), "s3://moves/a.txt"]).await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert!(!file.exists(), "mv removes the local source after the upload");
    let across = run(&endpoint, &["mv", "s3://moves/a.txt", "s3://moves/dir/"]).await;
    assert_eq!(across.code, 0, "{}", across.stderr);
    assert_eq!(run(&endpoint, &["head", "s3://moves/a.txt"]).await.code, 1, "the source is gone");
    let head: serde_json::Value =
        serde_json::from_str(&run(&endpoint, &["head", "s3://moves/dir/a.txt"]).await.stdout).unwrap();
    assert_eq!(head["size"], 6);
    let onto_itself = run(&endpoint, &["cp", "s3://moves/dir/a.txt", "s3://moves/dir/a.txt"]).await;
    assert_eq!(onto_itself.code, 2);
    let denied =
        run(&endpoint, &["--allow", "moves/dir/=read", "mv", "s3://moves/dir/a.txt", "s3://moves/b.txt"])
            .await;
    assert_eq!(denied.code, 3, "{}", denied.stderr);
    assert_eq!(
        run(&endpoint, &["head", "s3://moves/dir/a.txt"]).await.code,
        0,
        "a refused move deletes nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directories_copy_recursively_both_ways() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://trees"]).await.code, 0);
    let source = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(source.path().join("docs/deep")).unwrap();
    std::fs::write(source.path().join("index.html"), b"<html>").unwrap();
    std::fs::write(source.path().join("docs/a.txt"), b"a").unwrap();
    std::fs::write(source.path().join("docs/deep/b.json"), b"{}").unwrap();

    let up = run(&endpoint, &["cp", "--recursive", source.path().to_str().unwrap(), "s3://trees/site"]).await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert_eq!(up.stdout.lines().count(), 3, "{}", up.stdout);
    let keys =
        listed_keys(&run(&endpoint, &["--json", "ls", "--recursive", "s3://trees/site/"]).await.stdout);
    assert_eq!(keys, ["site/docs/a.txt", "site/docs/deep/b.json", "site/index.html"]);
    let head: serde_json::Value =
        serde_json::from_str(&run(&endpoint, &["head", "s3://trees/site/index.html"]).await.stdout).unwrap();
    assert_eq!(head["contentType"], "text/html", "guessed from the extension");

    let target = tempfile::tempdir().unwrap();
    let down =
        run(&endpoint, &["cp", "--recursive", "s3://trees/site/", target.path().to_str().unwrap()]).await;
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(std::fs::read(target.path().join("docs/deep/b.json")).unwrap(), b"{}");
    assert_eq!(std::fs::read(target.path().join("index.html")).unwrap(), b"<html>");
}

fn sts_answer_with(access_key: &str, secret: &str) -> String {
    format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials>\
         <AccessKeyId>{access_key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>\
         <Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>"
    )
}

fn form_value(body: &[u8], name: &str) -> Option<String> {
    std::str::from_utf8(body).ok()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_arn_assumes_the_role_with_the_allow_rules_as_session_policy() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    // The STS stub hands out the store's own keys as the role's credentials.
    let sts = RecordingServer::start().await;
    sts.answer(Answer { status: 200, headers: vec![], body: sts_answer_with(ACCESS_KEY, SECRET) });
    let role = "arn:aws:iam::123456789012:role/lister";
    let assumed: Run = command(&s3.endpoint())
        .env("AWS_ENDPOINT_URL_STS", &sts.endpoint)
        .env("AWS_ACCESS_KEY_ID", "AKIDBASE")
        .env("AWS_SECRET_ACCESS_KEY", "base-secret-VALUE")
        .args(["--role-arn", role, "--session-policy", "--allow", "*=list", "--verbose", "ls"])
        .output()
        .await
        .unwrap()
        .into();
    assert_eq!(assumed.code, 0, "{}{}", assumed.stdout, assumed.stderr);
    assert!(
        assumed
            .stderr
            .contains(&format!("credentials from role {role} (--role-arn, limited to the --allow rules)")),
        "{}",
        assumed.stderr
    );
    let requests = sts.requests();
    assert_eq!(requests.len(), 1);
    let body = &requests[0].body;
    assert_eq!(form_value(body, "RoleArn").as_deref(), Some(role));
    let policy: serde_json::Value = serde_json::from_str(&form_value(body, "Policy").unwrap()).unwrap();
    assert_eq!(policy["Statement"][0]["Action"], serde_json::json!(["s3:ListAllMyBuckets"]));
    assert!(requests[0].header("authorization").unwrap().contains("Credential=AKIDBASE/"));
    for output in [&assumed.stdout, &assumed.stderr] {
        assert!(!output.contains("base-secret-VALUE") && !output.contains(SECRET), "{output}");
    }

    // --session-policy needs --role-arn.
    let alone = run(&s3.endpoint(), &["--session-policy", "ls"]).await;
    assert_eq!(alone.code, 2, "{}", alone.stderr);
    assert!(alone.stderr.contains("--role-arn"), "{}", alone.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roles_anywhere_table_in_the_config_gets_credentials_with_the_certificate() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let ra = RecordingServer::start().await;
    ra.answer(Answer {
        status: 200,
        headers: vec![],
        body: format!(
            r#"{{"credentialSet":[{{"credentials":{{"accessKeyId":"{ACCESS_KEY}","secretAccessKey":"{SECRET}","expiration":"2099-01-01T00:00:00Z"}}}}]}}"#
        ),
    });
    let work = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let certificate =
        rcgen::CertificateParams::new(vec!["workload".to_owned()]).unwrap().self_signed(&key).unwrap();
    std::fs::write(work.path().join("w.crt"), certificate.pem()).unwrap();
    std::fs::write(work.path().join("w.key"), key.serialize_pem()).unwrap();
    let config = work.path().join("ra.toml");
    std::fs::write(
        &config,
        format!(
            "[roles_anywhere]\ncertificate = {:?}\nprivate_key = {:?}\n\
             trust_anchor_arn = \"arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/ta\"\n\
             profile_arn = \"arn:aws:rolesanywhere:eu-west-1:123456789012:profile/pr\"\n\
             role_arn = \"arn:aws:iam::123456789012:role/uploader\"\nendpoint = {:?}\n",
            work.path().join("w.crt"),
            work.path().join("w.key"),
            ra.endpoint
        ),
    )
    .unwrap();
    let listed = run(&s3.endpoint(), &["--config", config.to_str().unwrap(), "--verbose", "ls"]).await;
    assert_eq!(listed.code, 0, "{}{}", listed.stdout, listed.stderr);
    assert!(listed.stderr.contains("credentials from IAM Roles Anywhere"), "{}", listed.stderr);
    let requests = ra.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!((requests[0].method.as_str(), requests[0].uri.as_str()), ("POST", "/sessions"));
    assert!(requests[0].header("authorization").unwrap().starts_with("AWS4-X509-ECDSA-SHA256 Credential="));
    assert!(requests[0].header("x-amz-x509").is_some());
    let key_pem = key.serialize_pem();
    let key_body = key_pem.lines().nth(1).unwrap();
    for output in [&listed.stdout, &listed.stderr] {
        assert!(!output.contains(SECRET) && !output.contains(key_body), "{output}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistyped_aws_region_is_a_usage_error_with_a_suggestion() {
    // An AWS endpoint: the region must be AWS's; nothing is sent.
    let typo =
        run("https://s3.eu-west-1.amazonaws.com", &["--region", "eu-wset-1", "ls", "s3://photos"]).await;
    assert_eq!(typo.code, 2, "{}", typo.stderr);
    assert!(
        typo.stderr.contains(r#"region "eu-wset-1" is not an AWS region; did you mean "eu-west-1"?"#),
        "{}",
        typo.stderr
    );
    // Any other endpoint takes any region name (this one fails later, on the closed port).
    let custom = run("http://127.0.0.1:1", &["--region", "eu-wset-1", "ls", "s3://photos"]).await;
    assert_eq!(custom.code, 1, "{}", custom.stderr);
    assert!(!custom.stderr.contains("not an AWS region"), "{}", custom.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_attempts_must_be_between_1_and_20() {
    for bad in ["0", "21", "many"] {
        let run = run("http://127.0.0.1:1", &["--max-attempts", bad, "ls", "s3://bucket"]).await;
        assert_eq!(run.code, 2, "--max-attempts {bad}: {}", run.stderr);
        assert!(run.stderr.contains("--max-attempts"), "{}", run.stderr);
    }
    // A closed port is not a transient failure: one attempt, and a prompt error.
    let started = std::time::Instant::now();
    let run = run("http://127.0.0.1:1", &["--max-attempts", "5", "ls", "s3://bucket"]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("connection refused"), "{}", run.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_to_start_without_a_token() {
    let no_token = run("http://127.0.0.1:1", &["serve", "--listen", "127.0.0.1:0"]).await;
    assert_eq!(no_token.code, 2, "{}", no_token.stderr);
    assert!(no_token.stderr.contains("S3_CONNECTOR_TOKEN"), "{}", no_token.stderr);
    let public = run("http://127.0.0.1:1", &["serve", "--listen", "0.0.0.0:0", "--insecure-no-auth"]).await;
    assert_eq!(public.code, 2, "{}", public.stderr);
    assert!(public.stderr.contains("loopback"), "{}", public.stderr);
}

/// Issue 14: `rm --recursive s3://b/d` takes `d` as the directory `d/`, as `aws s3 rm` and this
/// tool's own `cp --recursive` do; `--raw-prefix` asks for the raw prefix match.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rm_recursive_takes_the_location_as_a_directory() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://rmdir"]).await.code, 0);
    for key in ["d/a", "d/sub/b", "dx", "d-other"] {
        let put = run_with_stdin(&endpoint, &["cp", "-", &format!("s3://rmdir/{key}")], b"x").await;
        assert_eq!(put.code, 0, "{}", put.stderr);
    }
    let removed = run(&endpoint, &["rm", "--recursive", "s3://rmdir/d"]).await;
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    let sorted = |text: &str| {
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines.sort();
        lines
    };
    assert_eq!(sorted(&removed.stdout), ["delete: s3://rmdir/d/a", "delete: s3://rmdir/d/sub/b"]);
    for (key, code) in [("d/a", 1), ("d/sub/b", 1), ("dx", 0), ("d-other", 0)] {
        assert_eq!(run(&endpoint, &["head", &format!("s3://rmdir/{key}")]).await.code, code, "{key}");
    }
    // The raw prefix only when asked for.
    let raw = run(&endpoint, &["rm", "--recursive", "--raw-prefix", "s3://rmdir/d"]).await;
    assert_eq!(raw.code, 0, "{}", raw.stderr);
    assert_eq!(sorted(&raw.stdout), ["delete: s3://rmdir/d-other", "delete: s3://rmdir/dx"]);
    let help = run(&endpoint, &["rm", "--help"]).await;
    assert!(help.stdout.contains("--raw-prefix"), "{}", help.stdout);
    let alone = run(&endpoint, &["rm", "--raw-prefix", "s3://rmdir/d"]).await;
    assert_eq!(alone.code, 2, "--raw-prefix needs --recursive: {}", alone.stderr);
}

/// Issue 14: `--allow` flags replace a config file's `[[allow]]` rules (a flag wins over the
/// file, as for every setting), and `--verbose` names the rules in force.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_flags_replace_the_config_files_rules() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("alpha.toml");
    // The file's endpoint is a closed port: the --endpoint flag must win over it too.
    std::fs::write(&config, "endpoint = \"http://127.0.0.1:1\"\n[[allow]]\nbucket = \"alpha\"\n").unwrap();
    let config = config.to_str().unwrap();
    assert_eq!(run(&endpoint, &["mb", "s3://alpha"]).await.code, 0);
    let put = run_with_stdin(&endpoint, &["--config", config, "cp", "-", "s3://alpha/x"], b"x").await;
    assert_eq!(put.code, 0, "the file's rule allows alpha: {}", put.stderr);

    let before = s3.requests_received();
    let narrowed =
        run(&endpoint, &["--config", config, "--allow", "alpha/docs/=read", "-v", "rm", "s3://alpha/x"])
            .await;
    assert_eq!(narrowed.code, 3, "{}", narrowed.stderr);
    assert_eq!(s3.requests_received(), before, "a denied request reached the server");
    assert!(
        narrowed
            .stderr
            .contains("policy from --allow (replacing the [[allow]] rules of --config): alpha/docs/=read"),
        "{}",
        narrowed.stderr
    );
    assert_eq!(run(&endpoint, &["head", "s3://alpha/x"]).await.code, 0, "x is still there");
    let from_file = run(&endpoint, &["--config", config, "-v", "head", "s3://alpha/x"]).await;
    assert_eq!(from_file.code, 0, "{}", from_file.stderr);
    assert!(
        from_file
            .stderr
            .contains("policy from the [[allow]] rules of --config: alpha=read,write,delete,list"),
        "{}",
        from_file.stderr
    );
}

/// Issue 14: `mv` checks every permission it needs (the copy and the delete) against the policy
/// before anything is sent: a move the policy would stop half-way does not start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mv_checks_every_permission_before_sending_anything() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://moving"]).await.code, 0);
    let put = run_with_stdin(&endpoint, &["cp", "-", "s3://moving/src/a"], b"payload").await;
    assert_eq!(put.code, 0, "{}", put.stderr);
    let work = tempfile::tempdir().unwrap();
    let local = work.path().join("a.txt");
    std::fs::write(&local, b"local").unwrap();
    let rules = ["--allow", "moving/src/=read,list", "--allow", "moving/dst/=write"];

    let before = s3.requests_received();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["mv", "s3://moving/src/a", "s3://moving/dst/a"], "'delete'"),
        (vec!["mv", "s3://moving/src/a", work.path().to_str().unwrap()], "'delete'"),
        (vec!["mv", "s3://moving/dst/none", "s3://moving/src/b"], "'write'"),
        (vec!["mv", local.to_str().unwrap(), "s3://moving/src/a.txt"], "'write'"),
    ];
    for (command, needs) in cases {
        let args: Vec<&str> = rules.iter().copied().chain(command.iter().copied()).collect();
        let refused = run(&endpoint, &args).await;
        assert_eq!(refused.code, 3, "{command:?}: {}", refused.stderr);
        assert!(refused.stderr.contains(needs), "{command:?}: {}", refused.stderr);
        assert_eq!(refused.stderr.lines().count(), 1, "{}", refused.stderr);
    }
    assert_eq!(s3.requests_received(), before, "a refused move sent requests");
    assert_eq!(run(&endpoint, &["head", "s3://moving/dst/a"]).await.code, 1, "nothing was copied");
    assert!(!work.path().join("a").exists() && local.exists());

    // With delete too, the same move goes through.
    let allowed = run(
        &endpoint,
        &[
            "--allow",
            "moving/src/=read,list,delete",
            "--allow",
            "moving/dst/=write",
            "mv",
            "s3://moving/src/a",
            "s3://moving/dst/a",
        ],
    )
    .await;
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    assert_eq!(run(&endpoint, &["head", "s3://moving/src/a"]).await.code, 1);
}

/// Runs the CLI with its stdout closed before it writes anything, as `| head -0` would.
async fn run_with_closed_stdout(endpoint: &str, args: &[&str]) -> Run {
    let mut child = command(endpoint)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    drop(child.stdout.take());
    child.wait_with_output().await.expect("the binary ends").into()
}

/// Issue 14: a closed stdout stops the printing, never the work: no panic, all files uploaded,
/// and exit code 0 because the work succeeded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_stops_the_printing_not_the_work() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://pipes"]).await.code, 0);
    let tree = tempfile::tempdir().unwrap();
    for name in ["a", "b", "c", "d"] {
        std::fs::write(tree.path().join(name), name).unwrap();
    }
    let up = run_with_closed_stdout(
        &endpoint,
        &["cp", "--recursive", tree.path().to_str().unwrap(), "s3://pipes/tree/"],
    )
    .await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert!(!up.stderr.contains("panicked"), "{}", up.stderr);
    let listed = run(&endpoint, &["ls", "--recursive", "s3://pipes/tree/"]).await;
    assert_eq!(listed.stdout.lines().count(), 4, "every file was uploaded: {}", listed.stdout);

    for args in [
        vec!["ls", "s3://pipes/tree/"],
        vec!["ls"],
        vec!["--json", "ls", "s3://pipes"],
        vec!["head", "s3://pipes/tree/a"],
    ] {
        let closed = run_with_closed_stdout(&endpoint, &args).await;
        assert_eq!(closed.code, 0, "{args:?}: {}", closed.stderr);
        assert!(!closed.stderr.contains("panicked"), "{args:?}: {}", closed.stderr);
    }
    // Where the output is the work (a download to stdout), the exit code says it failed, in
    // one line and without a panic.
    let body = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(body.path(), vec![1u8; 4 << 20]).unwrap();
    assert_eq!(run(&endpoint, &["cp", body.path().to_str().unwrap(), "s3://pipes/big"]).await.code, 0);
    let download = run_with_closed_stdout(&endpoint, &["cp", "s3://pipes/big", "-"]).await;
    assert_eq!(download.code, 1, "{}", download.stderr);
    assert!(!download.stderr.contains("panicked"), "{}", download.stderr);
}

/// A server that answers every request with the start of a 1 GiB object, then holds the
/// connection: a large download in progress, for as long as the test needs.
async fn stalling_server() -> String {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = "HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\nETag: \"stall\"\r\n\
                            Last-Modified: Tue, 01 Dec 2026 00:00:00 GMT\r\n\r\n";
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&vec![7u8; 1 << 20]).await;
                tokio::time::sleep(std::time::Duration::from_secs(120)).await;
            });
        }
    });
    endpoint
}

/// Issue 14: SIGINT or SIGTERM during a download removes its hidden temporary file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_download_leaves_no_temporary_file() {
    let endpoint = stalling_server().await;
    for signal in ["INT", "TERM"] {
        let work = tempfile::tempdir().unwrap();
        let target = work.path().join("big.bin");
        let mut child = command(&endpoint)
            .args(["cp", "s3://stall/big.bin", target.to_str().unwrap()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the download is under way: its temporary file exists and has data.
        let started = std::time::Instant::now();
        loop {
            let partial = std::fs::read_dir(work.path()).unwrap().flatten().find(|e| {
                e.file_name().to_string_lossy().starts_with(".s3-connector-")
                    && e.metadata().map(|m| m.len() > 0).unwrap_or(false)
            });
            if partial.is_some() {
                break;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(30), "the download never started");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let pid = child.id().unwrap().to_string();
        let killed = Command::new("kill").args([&format!("-{signal}"), &pid]).status().await.unwrap();
        assert!(killed.success());
        let ended = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait()).await;
        let status = ended.expect("the CLI ends after the signal").unwrap();
        let left: Vec<_> = std::fs::read_dir(work.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert!(left.is_empty(), "SIG{signal} left {left:?}");
        let expected = if signal == "INT" { 130 } else { 143 };
        assert_eq!(status.code(), Some(expected), "SIG{signal}: {status:?}");
    }
}

/// Issue 13: an `allow = []` that is present and empty allows nothing; the CLI's allow-all
/// default warns on stderr unless `--allow '*'` says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_allow_list_allows_nothing_and_the_default_warns() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("empty.toml");
    std::fs::write(&config, "allow = []\n").unwrap();
    let before = s3.requests_received();
    let refused = run(&endpoint, &["--config", config.to_str().unwrap(), "mb", "s3://nothing"]).await;
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert_eq!(s3.requests_received(), before);

    let default = run(&endpoint, &["mb", "s3://everything"]).await;
    assert_eq!(default.code, 0, "{}", default.stderr);
    let warnings: Vec<&str> = default.stderr.lines().collect();
    assert_eq!(warnings.len(), 1, "{}", default.stderr);
    let advice = "--allow '*=read,write,delete,list,admin'";
    assert!(warnings[0].contains("allows every bucket and operation") && warnings[0].contains(advice));
    let explicit = run(&endpoint, &["--allow", "*", "ls", "s3://everything"]).await;
    assert_eq!((explicit.code, explicit.stderr.as_str()), (0, ""));
}

/// Issue 13: a folder marker (`d/`, zero bytes) is skipped by `cp --recursive s3://... DIR`, as
/// by the aws CLI. s3s-fs cannot store such a key, so a recording server lists one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cp_recursive_skips_folder_markers() {
    let s3 = RecordingServer::start().await;
    let object = |key: &str, size: usize| {
        format!(
            "<Contents><Key>{key}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>\
             <ETag>\"e\"</ETag><Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents>"
        )
    };
    let listing = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
         <Name>marks</Name><Prefix>d/</Prefix><KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>\
         {}{}{}</ListBucketResult>",
        object("d/", 0),
        object("d/a.txt", 5),
        object("d/sub/", 0)
    );
    s3.answer_next([Answer { status: 200, headers: vec![], body: listing }]);
    s3.answer(Answer { status: 200, headers: vec![("etag", "\"e\"".to_owned())], body: "hello".to_owned() });
    let target = tempfile::tempdir().unwrap();
    let down =
        run(&s3.endpoint, &["cp", "--recursive", "s3://marks/d", target.path().to_str().unwrap()]).await;
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(std::fs::read(target.path().join("a.txt")).unwrap(), b"hello");
    let names: Vec<_> = std::fs::read_dir(target.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(names, ["a.txt"], "only the object, no marker");
    let gets = s3.requests().iter().filter(|r| r.method == "GET" && !r.uri.contains("list-type")).count();
    assert_eq!(gets, 1, "{:?}", s3.requests());
}

/// Issue 13: prefixes are literal (`--allow photos/in` also grants `inbox/`); the help and the
/// docs (README.md, docs/cli.md, docs/policy.md) say "keys starting with PREFIX", and `--verbose`
/// warns about such a rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefix_rules_are_literal_and_verbose_says_so() {
    let help = run("http://127.0.0.1:1", &["--help"]).await;
    assert!(help.stdout.contains("keys starting with PREFIX"), "{}", help.stdout);
    let docs = [
        include_str!("../../README.md"),
        include_str!("../../docs/cli.md"),
        include_str!("../../docs/policy.md"),
    ];
    for text in std::iter::once(help.stdout.as_str()).chain(docs) {
        assert!(!text.contains("keys under"), "'keys under' misdescribes a literal prefix");
    }
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    let warned = run(&endpoint, &["-v", "--allow", "photos/in=list", "ls", "s3://photos/in"]).await;
    assert!(
        warned.stderr.contains("rule photos/in=list: prefix \"in\" does not end in /, so it also matches keys such as \"in-other/x\""),
        "{}",
        warned.stderr
    );
    let quiet = run(&endpoint, &["-v", "--allow", "photos/in/=list", "ls", "s3://photos/in/"]).await;
    assert!(!quiet.stderr.contains("does not end in /"), "{}", quiet.stderr);
}

/// Issue 13: `--session-token` goes with the key flags; with keys from anywhere else it is
/// refused (exit 2) with the flags named, never silently dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_token_without_the_key_flags_is_a_usage_error() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    let alone = run(&endpoint, &["--session-token", SESSION_TOKEN, "ls"]).await;
    assert_eq!(alone.code, 2, "{}", alone.stderr);
    assert!(
        alone.stderr.contains("--session-token")
            && alone.stderr.contains("--access-key-id")
            && alone.stderr.contains("--secret-access-key"),
        "{}",
        alone.stderr
    );
    assert!(!alone.stderr.contains(SESSION_TOKEN));
    let with_keys = run(
        &endpoint,
        &["--session-token", "tok", "--access-key-id", ACCESS_KEY, "--secret-access-key", SECRET, "-v", "ls"],
    )
    .await;
    assert!(with_keys.stderr.contains("credentials from --access-key-id"), "{}", with_keys.stderr);
}

/// Issue 14 (a flag wins over the file, for every setting): `--profile` names the credentials
/// even when the config file has a `[credentials]` table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_flag_wins_over_the_config_files_credentials() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let aws = tempfile::tempdir().unwrap();
    let credentials = aws.path().join("credentials");
    std::fs::write(
        &credentials,
        format!("[work]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET}\n"),
    )
    .unwrap();
    let config = aws.path().join("file.toml");
    std::fs::write(
        &config,
        "[credentials]\naccess_key_id = \"AKFILE\"\nsecret_access_key = \"file-secret\"\n",
    )
    .unwrap();
    let listed: Run = command(&s3.endpoint())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .args(["--config", config.to_str().unwrap(), "--profile", "work", "-v", "ls"])
        .output()
        .await
        .unwrap()
        .into();
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(
        listed.stderr.contains("credentials from the default chain: profile `work`"),
        "{}",
        listed.stderr
    );
}

/// An object in a fresh s3s-fs bucket, for the issue 14 tests below.
async fn bucket_with(endpoint: &str, bucket: &str, keys: &[(&str, &[u8])]) {
    assert_eq!(run(endpoint, &["mb", &format!("s3://{bucket}")]).await.code, 0);
    for (key, body) in keys {
        let up = run_with_stdin(endpoint, &["cp", "-", &format!("s3://{bucket}/{key}")], body).await;
        assert_eq!(up.code, 0, "{}", up.stderr);
    }
}

/// Issue 14, item 7: `cp s3://b/k newdir/` makes the missing directory (and a missing parent
/// of a file name), as the aws CLI does, instead of failing on the temporary file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_into_a_missing_directory_makes_it() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    bucket_with(&endpoint, "dirs", &[("k.txt", b"made")]).await;
    let work = tempfile::tempdir().unwrap();
    let folder = format!("{}/newdir/", work.path().display());
    let down = run(&endpoint, &["cp", "s3://dirs/k.txt", &folder]).await;
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(std::fs::read(work.path().join("newdir/k.txt")).unwrap(), b"made");
    let nested = work.path().join("a/b/named.txt");
    let down = run(&endpoint, &["cp", "s3://dirs/k.txt", nested.to_str().unwrap()]).await;
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(std::fs::read(nested).unwrap(), b"made");
}

/// Issue 14, item 12: messages that say what to do, MiB flags in MiB, S3's 5 GiB single-PUT
/// bound, a missing file as bad input (exit 2), `--parallel-ranges 1` refused as documented,
/// and per-command help that keeps the command's flags apart from the global ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_say_what_to_do() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    bucket_with(&endpoint, "msgs", &[("k", b"x")]).await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().to_str().unwrap();

    let directory = run(&endpoint, &["cp", dir, "s3://msgs/d/"]).await;
    assert_eq!(directory.code, 2, "{}", directory.stderr);
    assert!(directory.stderr.contains("is a directory; add --recursive"), "{}", directory.stderr);

    let mb = run(&endpoint, &["mb", "msgs2"]).await;
    assert_eq!(mb.code, 2);
    assert!(mb.stderr.contains("write s3://BUCKET\n"), "{}", mb.stderr);

    let part = run(&endpoint, &["cp", "-", "s3://msgs/p", "--part-size-mib", "3"]).await;
    assert_eq!(part.code, 2);
    assert!(part.stderr.contains("3") && part.stderr.contains("5..=256"), "{}", part.stderr);
    assert!(!part.stderr.contains("3145728"), "bytes instead of MiB: {}", part.stderr);
    let threshold = run(&endpoint, &["cp", "-", "s3://msgs/p", "--multipart-threshold-mib", "5121"]).await;
    assert_eq!(threshold.code, 2);
    assert!(threshold.stderr.contains("5121") && threshold.stderr.contains("5120"), "{}", threshold.stderr);

    let missing = run(&endpoint, &["cp", &format!("{dir}/no-such-file"), "s3://msgs/"]).await;
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("no-such-file: no such file"), "{}", missing.stderr);

    let one = run(&endpoint, &["cp", "s3://msgs/k", &format!("{dir}/k"), "--parallel-ranges", "1"]).await;
    assert_eq!(one.code, 2, "{}", one.stderr);
    assert!(one.stderr.contains("2..=16"), "{}", one.stderr);

    let help = run(&endpoint, &["cp", "--help"]).await;
    assert_eq!(help.code, 0);
    let (own, global) = help.stdout.split_once("Global options:").expect("a global section");
    assert!(own.contains("--recursive") && own.contains("--sse-c-key-file"), "{}", help.stdout);
    assert!(own.contains("Download options:") && own.contains("--parallel-ranges"), "{}", help.stdout);
    assert!(global.contains("--endpoint") && !global.contains("--parallel-ranges"), "{}", help.stdout);
}

/// Issue 14, item 11: `ls` exits 1 when a prefix matched nothing, as `aws s3 ls` (a whole
/// bucket, even empty, exits 0), and prints aws's columns: 19-character local time, the size
/// in 10, `PRE` aligned with the sizes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_exits_1_when_nothing_matched_and_prints_aws_columns() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    bucket_with(&endpoint, "lists", &[("top.txt", b"12345"), ("d/in.txt", b"1")]).await;
    assert_eq!(run(&endpoint, &["mb", "s3://empty-bucket"]).await.code, 0);

    let nothing = run(&endpoint, &["ls", "s3://lists/nothing"]).await;
    assert_eq!((nothing.code, nothing.stdout.as_str()), (1, ""), "{}", nothing.stderr);
    let nothing = run(&endpoint, &["--json", "ls", "s3://lists/nothing/", "--recursive"]).await;
    assert_eq!(nothing.code, 1, "{}", nothing.stderr);
    assert_eq!(run(&endpoint, &["ls", "s3://empty-bucket"]).await.code, 0);

    let ls = run(&endpoint, &["ls", "s3://lists"]).await;
    assert_eq!(ls.code, 0, "{}", ls.stderr);
    let lines: Vec<&str> = ls.stdout.lines().collect();
    assert_eq!(lines[0], format!("{}PRE d/", " ".repeat(27)), "{}", ls.stdout);
    let file = lines[1];
    assert_eq!(&file[19..], "          5 top.txt", "{}", ls.stdout);
    assert!(file.as_bytes()[4] == b'-' && file.as_bytes()[10] == b' ', "{file}");
}

/// Issue 14, item 8: a download is created 0666 less the umask (not always 0600), and its
/// modification time is the object's Last-Modified, as the aws CLI sets them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_honour_the_umask_and_keep_the_objects_time() {
    use std::os::unix::fs::PermissionsExt;
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    bucket_with(&endpoint, "times", &[("old.txt", b"old")]).await;
    // s3s-fs reports its file's time as Last-Modified: make the object six years old.
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_577_836_800); // 2020-01-01
    let stored = std::fs::File::options().write(true).open(store_dir.path().join("times/old.txt")).unwrap();
    stored.set_modified(old).unwrap();
    drop(stored);

    let work = tempfile::tempdir().unwrap();
    let target = work.path().join("old.txt");
    let mut download = command(&endpoint);
    download.args(["cp", "s3://times/old.txt", target.to_str().unwrap()]);
    // SAFETY: umask is async-signal-safe; the child sets its own before exec.
    unsafe {
        download.pre_exec(|| {
            libc::umask(0o027);
            Ok(())
        });
    }
    let down = Run::from(download.output().await.unwrap());
    assert_eq!(down.code, 0, "{}", down.stderr);
    let metadata = std::fs::metadata(&target).unwrap();
    assert_eq!(metadata.permissions().mode() & 0o777, 0o640, "0666 less the umask 027");
    assert_eq!(metadata.modified().unwrap(), old, "the object's Last-Modified");
}

/// Issue 14, item 9: the SSE-C key goes with every read (download and head), and `--metadata`
/// replaces an S3-to-S3 copy's metadata; a flag that applies to no read is refused by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sse_c_key_reads_back_and_copies_take_metadata() {
    use base64::Engine as _;
    let s3 = RecordingServer::start().await;
    s3.answer(Answer {
        status: 200,
        headers: vec![
            ("etag", "\"e\"".to_owned()),
            ("last-modified", "Tue, 01 Dec 2026 02:49:44 GMT".to_owned()),
        ],
        body: "secret".to_owned(),
    });
    let work = tempfile::tempdir().unwrap();
    let key_file = work.path().join("key");
    std::fs::write(&key_file, [7u8; 32]).unwrap();
    let key = key_file.to_str().unwrap();
    let target = work.path().join("out");
    let down =
        run(&s3.endpoint, &["cp", "s3://ssec/k", target.to_str().unwrap(), "--sse-c-key-file", key]).await;
    assert_eq!(down.code, 0, "{}", down.stderr);
    let head = run(&s3.endpoint, &["head", "s3://ssec/k", "--sse-c-key-file", key]).await;
    assert_eq!(head.code, 0, "{}", head.stderr);
    let head: serde_json::Value = serde_json::from_str(&head.stdout).unwrap();
    assert_eq!(head["lastModified"], "2026-12-01T02:49:44Z", "ISO 8601, not an HTTP date");
    let encoded = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let requests = s3.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    for request in &requests {
        assert_eq!(request.header("x-amz-server-side-encryption-customer-key"), Some(encoded.as_str()));
        assert_eq!(request.header("x-amz-server-side-encryption-customer-algorithm"), Some("AES256"));
    }
    let tag = run(&s3.endpoint, &["cp", "s3://ssec/k", target.to_str().unwrap(), "--tag", "a=b"]).await;
    assert_eq!(tag.code, 2);
    assert!(tag.stderr.contains("--tag does not apply to a download"), "{}", tag.stderr);
    assert_eq!(s3.requests().len(), 2, "a refused flag sends nothing");

    let store_dir = tempfile::tempdir().unwrap();
    let fs = server(store_dir.path()).await;
    let endpoint = fs.endpoint();
    bucket_with(&endpoint, "copies", &[("a", b"body")]).await;
    let copy = run(&endpoint, &["cp", "s3://copies/a", "s3://copies/b", "--metadata", "owner=ops"]).await;
    assert_eq!(copy.code, 0, "{}", copy.stderr);
    let head: serde_json::Value =
        serde_json::from_str(&run(&endpoint, &["head", "s3://copies/b"]).await.stdout).unwrap();
    assert_eq!(head["metadata"]["owner"], "ops", "{head}");
}

/// Issue 14, item 10: `--json` everywhere: a usage error is the JSON error object, presign
/// is `{"url", "expires"}`, times are ISO 8601.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_covers_usage_errors_presign_and_times() {
    let usage = run("http://127.0.0.1:1", &["--json", "cp", "only-one-argument"]).await;
    assert_eq!(usage.code, 2);
    let error: serde_json::Value = serde_json::from_str(usage.stderr.trim()).expect("one JSON line");
    assert_eq!(error["error"]["code"], "usage", "{}", usage.stderr);
    assert!(error["error"]["message"].as_str().unwrap().contains("<DESTINATION>"), "{error}");

    let presign = run(
        "http://127.0.0.1:1",
        &["--json", "--at", "2026-01-01T00:00:00Z", "presign", "s3://signed/k", "--expires-in", "90"],
    )
    .await;
    assert_eq!(presign.code, 0, "{}", presign.stderr);
    let answer: serde_json::Value = serde_json::from_str(&presign.stdout).unwrap();
    assert!(answer["url"].as_str().unwrap().contains("X-Amz-Expires=90"), "{answer}");
    assert_eq!(answer["expires"], "2026-01-01T00:01:30Z");

    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    bucket_with(&endpoint, "isos", &[("k", b"x")]).await;
    let ls: serde_json::Value =
        serde_json::from_str(&run(&endpoint, &["--json", "ls", "s3://isos"]).await.stdout).unwrap();
    let listed = ls["lastModified"].as_str().unwrap().to_owned();
    let head: serde_json::Value =
        serde_json::from_str(&run(&endpoint, &["--json", "head", "s3://isos/k"]).await.stdout).unwrap();
    assert_eq!(head["lastModified"], listed, "one format in listings and head");
    assert!(listed.len() == 20 && listed.ends_with('Z') && listed.as_bytes()[10] == b'T', "{listed}");

    // One shape for every transfer: operation, source, target.
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("k");
    for args in [
        vec!["--json", "cp", "s3://isos/k", path.to_str().unwrap()],
        vec!["--json", "cp", path.to_str().unwrap(), "s3://isos/k2"],
        vec!["--json", "cp", "s3://isos/k2", "s3://isos/k3"],
    ] {
        let done = run(&endpoint, &args).await;
        let line: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
        for field in ["operation", "source", "target"] {
            assert!(line[field].is_string(), "{field} in {line}");
        }
    }
}

/// Issue 14, item 14: `cp --recursive` between two S3 folders and `mv --recursive`, each
/// object its own policy-checked call; a move the policy would stop moves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_copy_and_move_between_s3_locations() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    bucket_with(&endpoint, "trees", &[("d/a", b"A"), ("d/sub/b", b"B"), ("dx", b"X")]).await;

    let copy = run(&endpoint, &["cp", "--recursive", "s3://trees/d", "s3://trees/e/"]).await;
    assert_eq!(copy.code, 0, "{}", copy.stderr);
    assert_eq!(copy.stdout.lines().count(), 2, "d/ only, not dx: {}", copy.stdout);
    let keys = |run: &Run| listed_keys(&run.stdout);
    let listed = run(&endpoint, &["--json", "ls", "--recursive", "s3://trees/e/"]).await;
    assert_eq!(keys(&listed), ["e/a", "e/sub/b"]);

    let before = s3.requests_received();
    let refused = run(
        &endpoint,
        &[
            "--allow",
            "trees/e/=read,list",
            "--allow",
            "trees/f/=write",
            "mv",
            "--recursive",
            "s3://trees/e",
            "s3://trees/f",
        ],
    )
    .await;
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(refused.stderr.contains("needs 'delete'"), "{}", refused.stderr);
    assert_eq!(s3.requests_received(), before + 1, "only the listing was sent");

    let moved = run(&endpoint, &["mv", "--recursive", "s3://trees/e", "s3://trees/f"]).await;
    assert_eq!(moved.code, 0, "{}", moved.stderr);
    let all = run(&endpoint, &["--json", "ls", "--recursive", "s3://trees"]).await;
    assert_eq!(keys(&all), ["d/a", "d/sub/b", "dx", "f/a", "f/sub/b"]);
    let into_itself = run(&endpoint, &["cp", "--recursive", "s3://trees/d", "s3://trees/d/sub"]).await;
    assert_eq!(into_itself.code, 2, "{}", into_itself.stderr);

    // A local directory moves too: its files are uploaded one by one, then removed.
    let local = tempfile::tempdir().unwrap();
    std::fs::create_dir(local.path().join("sub")).unwrap();
    std::fs::write(local.path().join("sub/c"), b"C").unwrap();
    let up = run(&endpoint, &["mv", "--recursive", local.path().to_str().unwrap(), "s3://trees/g"]).await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert!(!local.path().join("sub/c").exists(), "the file was moved");
    let listed = run(&endpoint, &["--json", "ls", "--recursive", "s3://trees/g/"]).await;
    assert_eq!(keys(&listed), ["g/sub/c"]);
}

/// Issue 14, item 6: with no credentials anywhere and IMDS unreachable (a local stub that
/// accepts and never answers, standing in for 169.254.169.254 off EC2), the error names every
/// source tried, exits 2, and comes within the SDKs' bound (1 s, one attempt), not after
/// IMDS's own error alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credentials_names_every_source_and_fails_fast() {
    let silent = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let imds = format!("http://{}", silent.local_addr().unwrap());
    let started = std::time::Instant::now();
    let output = command("http://127.0.0.1:1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds)
        .args(["--json", "ls", "s3://anything"])
        .output()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let run = Run::from(output);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let error: serde_json::Value = serde_json::from_str(run.stderr.lines().last().unwrap()).unwrap();
    assert_eq!(error["error"]["code"], "usage", "{}", run.stderr);
    let message = error["error"]["message"].as_str().unwrap();
    for source in [
        "--access-key-id",
        "--config",
        "AWS_ACCESS_KEY_ID",
        "profile `default`",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        imds.as_str(),
    ] {
        assert!(message.contains(source), "{source} missing from: {message}");
    }
    assert!(elapsed < std::time::Duration::from_millis(1900), "took {elapsed:?}");
    drop(silent);
}

/// Runs the CLI with stderr on a terminal (util-linux `script` makes one), under `timeout -s
/// INT` so that a stalled transfer is interrupted as a user's Ctrl-C would: the output as the
/// terminal got it.
async fn run_on_a_terminal(endpoint: &str, args: &[&str], stdin_from: Option<&str>) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut line = format!(
        "timeout -s INT 1.5 {} --endpoint {} --path-style {}",
        quote(env!("CARGO_BIN_EXE_s3-connector")),
        quote(endpoint),
        args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
    );
    if let Some(feeder) = stdin_from {
        line = format!("{feeder} | {line}");
    }
    let mut script = Command::new("script");
    script.args(["-qefc", &line, "/dev/null"]).kill_on_drop(true);
    for (name, value) in command(endpoint).as_std().get_envs() {
        match value {
            Some(value) => script.env(name, value),
            None => script.env_remove(name),
        };
    }
    let output = script.output().await.expect("script runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Issue 14, item 13: on a terminal, a download's line shows its total and percentage (as an
/// upload's does), a stdin upload's line its bytes and rate, and an interrupt clears the line
/// before saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_lines_show_totals_and_are_cleared_on_interrupt() {
    let stalling = stalling_server().await;
    let work = tempfile::tempdir().unwrap();
    let target = work.path().join("big");
    let shown = run_on_a_terminal(&stalling, &["cp", "s3://stall/big", target.to_str().unwrap()], None).await;
    assert!(shown.contains("download s3://stall/big  ") && shown.contains(" / 1024.0 MiB ("), "{shown:?}");
    let (_, after_last_line) = shown.rsplit_once("MiB/s").expect("a progress line");
    assert!(after_last_line.starts_with("\r\x1b[2K"), "the line is cleared: {after_last_line:?}");
    assert!(after_last_line.contains("interrupted by SIGINT"), "{after_last_line:?}");

    // Many objects (issue 20): one line for the command, objects and bytes done of all.
    let tree = work.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    for name in ["a", "b", "c"] {
        std::fs::write(tree.join(name), vec![1u8; 15 << 20]).unwrap();
    }
    let many =
        run_on_a_terminal(&stalling, &["cp", "--recursive", tree.to_str().unwrap(), "s3://stall/t/"], None)
            .await;
    // The bytes count as they are sent (issue 30), of the total the files gave.
    assert!(many.contains("Completed 0 of 3 objects, ") && many.contains(" of 45.0 MiB ("), "{many:?}");

    let store_dir = tempfile::tempdir().unwrap();
    let s3 = server(store_dir.path()).await;
    let endpoint = s3.endpoint();
    bucket_with(&endpoint, "progress", &[]).await;
    let piped = run_on_a_terminal(&endpoint, &["cp", "-", "s3://progress/slow"], Some("sleep 2")).await;
    assert!(piped.contains("upload -  0.0 MiB  0.0 MiB/s"), "{piped:?}");
}

/// A store of two 1 GiB objects under `d/` whose downloads send their first MiB, then stall.
async fn stalling_folder_server() -> String {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                if text.contains("list-type=2") {
                    let objects: String = ["d/a", "d/b"]
                        .iter()
                        .map(|key| {
                            format!(
                                "<Contents><Key>{key}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>\
                                 <ETag>\"e\"</ETag><Size>1073741824</Size></Contents>"
                            )
                        })
                        .collect();
                    let body = format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>stall</Name>\
                         <Prefix>d/</Prefix><KeyCount>2</KeyCount><IsTruncated>false</IsTruncated>{objects}\
                         </ListBucketResult>"
                    );
                    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                    let _ = socket.write_all(format!("{head}{body}").as_bytes()).await;
                    return;
                }
                let head = "HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\nETag: \"stall\"\r\n\
                            Last-Modified: Tue, 01 Dec 2026 00:00:00 GMT\r\n\r\n";
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&vec![7u8; 1 << 20]).await;
                tokio::time::sleep(std::time::Duration::from_secs(120)).await;
            });
        }
    });
    endpoint
}

/// Issue 30, item 5: `cp --recursive` downloads showed "0 B" the whole time; the line counts
/// the bytes as they arrive, of the total the listing gave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recursive_downloads_show_their_bytes_as_they_arrive() {
    let endpoint = stalling_folder_server().await;
    let work = tempfile::tempdir().unwrap();
    let target = work.path().join("out");
    let shown =
        run_on_a_terminal(&endpoint, &["cp", "--recursive", "s3://stall/d", target.to_str().unwrap()], None)
            .await;
    let last = shown.rsplit("Completed").next().unwrap_or_default();
    assert!(shown.contains("Completed") && last.starts_with(" 0 of 2 objects, "), "{shown:?}");
    assert!(last.contains(" of 2.0 GiB ("), "the total from the listing: {last:?}");
    assert!(!last.starts_with(" 0 of 2 objects, 0 B"), "bytes as they arrive: {last:?}");
}

/// Issue 14, item 15: `serve`'s answer to a request the policy refuses names the rule it
/// lacked, as the CLI's error does (the component alone knows only that it was refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_names_the_rule_of_a_denial_as_the_cli_does() {
    use tokio::io::AsyncReadExt;
    let cli = run("http://127.0.0.1:1", &["--allow", "bkt/in/=read", "cp", "s3://other/k.txt", "-"]).await;
    assert_eq!(cli.code, 3, "{}", cli.stderr);
    assert!(cli.stderr.contains("allowed: bkt/in/=read"), "{}", cli.stderr);

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let _serve = command("http://127.0.0.1:1")
        .args(["--allow", "bkt/in/=read", "serve", "--listen", &listen, "--insecure-no-auth"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut socket = None;
    // Up to 60 s: serve compiles the component before it listens, slow on a loaded machine.
    for _ in 0..600 {
        match tokio::net::TcpStream::connect(&listen).await {
            Ok(connected) => {
                socket = Some(connected);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    let mut socket = socket.expect("serve listens");
    let request = format!("GET /other/k.txt HTTP/1.1\r\nHost: {listen}\r\nConnection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let body: serde_json::Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "denied-by-host", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("denied by the host's policy: "), "{message}");
    assert!(message.contains("s3://other/k.txt") && message.contains("allowed: bkt/in/=read"), "{message}");
}

/// Issue 14, item 10: `head` shows the object's encryption, Cache-Control, Content-Disposition
/// and Content-Encoding (the recording server answers with them; s3s-fs keeps none of them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_shows_encryption_and_content_headers() {
    let s3 = RecordingServer::start().await;
    s3.answer(Answer {
        status: 200,
        headers: vec![
            ("etag", "\"e\"".to_owned()),
            ("content-length", "6".to_owned()),
            ("cache-control", "max-age=60".to_owned()),
            ("content-disposition", "attachment; filename=\"r.pdf\"".to_owned()),
            ("content-encoding", "gzip".to_owned()),
            ("x-amz-server-side-encryption", "aws:kms".to_owned()),
            ("x-amz-server-side-encryption-aws-kms-key-id", "arn:aws:kms:eu-west-1:1:key/k".to_owned()),
        ],
        body: String::new(),
    });
    let head = run(&s3.endpoint, &["head", "s3://shown/k"]).await;
    assert_eq!(head.code, 0, "{}", head.stderr);
    let head: serde_json::Value = serde_json::from_str(&head.stdout).unwrap();
    let shown = (
        head["cacheControl"].as_str(),
        head["contentDisposition"].as_str(),
        head["contentEncoding"].as_str(),
        head["serverSideEncryption"].as_str(),
        head["sseKmsKeyId"].as_str(),
    );
    assert_eq!(
        shown,
        (
            Some("max-age=60"),
            Some("attachment; filename=\"r.pdf\""),
            Some("gzip"),
            Some("aws:kms"),
            Some("arn:aws:kms:eu-west-1:1:key/k")
        ),
        "{head}"
    );
}
