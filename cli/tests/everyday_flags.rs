//! The aws CLI's everyday flags through the binary (issue 30, item 4): `--dryrun` on `cp`, `mv`
//! and `rm` prints aws's `(dryrun) ...` lines and changes nothing, `--quiet` prints nothing and
//! `--only-show-errors` only what went wrong, and one key of a recursive download that would
//! land outside the directory is skipped with aws's warning (exit 2) instead of stopping the
//! whole download. Against s3s-fs on 127.0.0.1, or the recording server for hostile keys.

use crate::common;
use crate::common::cli_binary;

use std::path::Path;

use cli_binary::{ACCESS_KEY, SECRET, run};
use common::recording_server::{Answer, RecordingServer};
use s3_connector_host::Secret;
use s3_connector_local_store::LocalS3;

/// Every class, so that no allow-all warning mixes into what these tests compare.
const ALLOW: [&str; 2] = ["--allow", "*=read,write,delete,list,admin"];

async fn server(dir: &Path) -> LocalS3 {
    LocalS3::start(dir, ACCESS_KEY, Secret::new(SECRET)).await.expect("the store starts")
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs with every access allowed.
async fn run_allowed(endpoint: &str, args: &[&str]) -> cli_binary::Run {
    let mut all: Vec<&str> = ALLOW.to_vec();
    all.extend(args);
    run(endpoint, &all).await
}

/// The keys under `s3://bucket/`, sorted.
async fn keys(endpoint: &str, bucket: &str) -> Vec<String> {
    let listed = run_allowed(endpoint, &["--json", "ls", "--recursive", &format!("s3://{bucket}/")]).await;
    let mut keys: Vec<String> = listed
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|line| line["key"].as_str().map(str::to_owned))
        .collect();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dryrun_prints_what_aws_prints_and_changes_nothing() {
    let store = tempfile::tempdir().unwrap();
    let s3 = server(store.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run_allowed(&endpoint, &["mb", "s3://dry"]).await.code, 0);
    let local = tempfile::tempdir().unwrap();
    let file = local.path().join("a.txt");
    std::fs::write(&file, b"alpha").unwrap();
    let put = run_allowed(&endpoint, &["cp", path(&file), "s3://dry/kept.txt"]).await;
    assert_eq!(put.code, 0, "{}", put.stderr);

    let upload = run_allowed(&endpoint, &["cp", "--dryrun", path(&file), "s3://dry/"]).await;
    assert_eq!((upload.code, upload.stderr.as_str()), (0, ""), "{}", upload.stdout);
    assert_eq!(upload.stdout, format!("(dryrun) upload: {} to s3://dry/a.txt\n", file.display()));

    let out = local.path().join("out");
    let download =
        run_allowed(&endpoint, &["cp", "--dryrun", "s3://dry/kept.txt", &format!("{}/", out.display())])
            .await;
    assert_eq!(download.code, 0, "{}", download.stderr);
    assert_eq!(
        download.stdout,
        format!("(dryrun) download: s3://dry/kept.txt to {}/kept.txt\n", out.display())
    );
    assert!(!out.exists(), "a dry run makes no directory");

    let copy = run_allowed(&endpoint, &["cp", "--dryrun", "s3://dry/kept.txt", "s3://dry/copy.txt"]).await;
    assert_eq!(copy.stdout, "(dryrun) copy: s3://dry/kept.txt to s3://dry/copy.txt\n", "{}", copy.stderr);

    let tree =
        run_allowed(&endpoint, &["cp", "--dryrun", "--recursive", path(local.path()), "s3://dry/up"]).await;
    assert_eq!(tree.code, 0, "{}", tree.stderr);
    assert_eq!(tree.stdout, format!("(dryrun) upload: {} to s3://dry/up/a.txt\n", file.display()));

    let moved = run_allowed(&endpoint, &["mv", "--dryrun", "s3://dry/kept.txt", "s3://dry/moved.txt"]).await;
    assert_eq!(moved.stdout, "(dryrun) move: s3://dry/kept.txt to s3://dry/moved.txt\n", "{}", moved.stderr);
    let moved_up = run_allowed(&endpoint, &["mv", "--dryrun", path(&file), "s3://dry/m/"]).await;
    assert_eq!(moved_up.stdout, format!("(dryrun) move: {} to s3://dry/m/a.txt\n", file.display()));
    assert!(file.exists(), "a dry move removes no file");
    let moved_all = run_allowed(
        &endpoint,
        &["mv", "--dryrun", "--recursive", "s3://dry/", &format!("{}/", out.display())],
    )
    .await;
    assert_eq!(moved_all.stdout, format!("(dryrun) move: s3://dry/kept.txt to {}/kept.txt\n", out.display()));

    let removed = run_allowed(&endpoint, &["rm", "--dryrun", "s3://dry/kept.txt"]).await;
    assert_eq!(removed.stdout, "(dryrun) delete: s3://dry/kept.txt\n", "{}", removed.stderr);
    let removed_all = run_allowed(&endpoint, &["rm", "--dryrun", "--recursive", "s3://dry/"]).await;
    assert_eq!(removed_all.stdout, "(dryrun) delete: s3://dry/kept.txt\n", "{}", removed_all.stderr);
    let json = run_allowed(&endpoint, &["--json", "rm", "--dryrun", "s3://dry/kept.txt"]).await;
    let line: serde_json::Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(
        line,
        serde_json::json!({"operation": "delete", "target": "s3://dry/kept.txt", "dryrun": true})
    );

    // A dry run still refuses what the real one would: a missing file is bad input.
    let missing = run_allowed(&endpoint, &["cp", "--dryrun", "/no/such/file", "s3://dry/x"]).await;
    assert_eq!(missing.code, 2, "{}", missing.stderr);

    assert_eq!(keys(&endpoint, "dry").await, ["kept.txt"], "nothing was written or deleted");
    assert!(!out.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_prints_nothing_and_only_show_errors_only_problems() {
    let store = tempfile::tempdir().unwrap();
    let s3 = server(store.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run_allowed(&endpoint, &["mb", "s3://hush"]).await.code, 0);
    let local = tempfile::tempdir().unwrap();
    let file = local.path().join("a.txt");
    std::fs::write(&file, b"alpha").unwrap();

    // Without --allow the CLI warns about its allow-all default; --quiet silences that too.
    let quiet = run(&endpoint, &["cp", "--quiet", path(&file), "s3://hush/a.txt"]).await;
    assert_eq!((quiet.code, quiet.stdout.as_str(), quiet.stderr.as_str()), (0, "", ""));
    let quiet_rm = run_allowed(&endpoint, &["rm", "--quiet", "s3://hush/a.txt"]).await;
    assert_eq!((quiet_rm.code, quiet_rm.stdout.as_str(), quiet_rm.stderr.as_str()), (0, "", ""));
    let target = local.path().join("back.txt");
    let failed = run_allowed(&endpoint, &["cp", "--quiet", "s3://hush/a.txt", path(&target)]).await;
    assert_eq!((failed.code, failed.stdout.as_str(), failed.stderr.as_str()), (1, "", ""));

    let errors_only = run(&endpoint, &["cp", "--only-show-errors", path(&file), "s3://hush/b.txt"]).await;
    assert_eq!((errors_only.code, errors_only.stdout.as_str()), (0, ""), "{}", errors_only.stderr);
    // The allow-all warning is a warning: it stays.
    assert!(errors_only.stderr.contains("warning:"), "{}", errors_only.stderr);
    let tree =
        run_allowed(&endpoint, &["sync", "--only-show-errors", path(local.path()), "s3://hush/t"]).await;
    assert_eq!((tree.code, tree.stdout.as_str(), tree.stderr.as_str()), (0, "", ""));
    let failed =
        run_allowed(&endpoint, &["cp", "--only-show-errors", "s3://hush/gone.txt", path(&target)]).await;
    assert_eq!((failed.code, failed.stdout.as_str()), (1, ""));
    assert!(failed.stderr.contains("gone.txt"), "{}", failed.stderr);
    assert_eq!(keys(&endpoint, "hush").await, ["b.txt", "t/a.txt"]);

    // A usage error is not a transfer's: it prints under --quiet too.
    let usage = run_allowed(&endpoint, &["cp", "--quiet", "/no/such/file", "s3://hush/x"]).await;
    assert_eq!(usage.code, 2);
    assert!(usage.stderr.contains("no such file"), "{}", usage.stderr);
    let both =
        run_allowed(&endpoint, &["cp", "--quiet", "--only-show-errors", path(&file), "s3://hush/x"]).await;
    assert_eq!(both.code, 2, "{}", both.stderr);
}

fn listing(bucket: &str, keys: &[&str]) -> String {
    let objects: String = keys
        .iter()
        .map(|key| {
            format!(
                "<Contents><Key>{key}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>\
                 <ETag>\"e\"</ETag><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
         <Name>{bucket}</Name><Prefix>d/</Prefix><KeyCount>{}</KeyCount><MaxKeys>1000</MaxKeys>\
         <IsTruncated>false</IsTruncated>{objects}</ListBucketResult>",
        keys.len()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_outside_the_directory_is_skipped_with_aws_warning() {
    let s3 = RecordingServer::start().await;
    let keys = ["d/../../escape.txt", "d/ok.txt"];
    s3.answer_next([Answer { status: 200, headers: vec![], body: listing("hostile", &keys) }]);
    s3.answer(Answer { status: 200, headers: vec![("etag", "\"e\"".to_owned())], body: "hello".to_owned() });
    let outer = tempfile::tempdir().unwrap();
    let target = outer.path().join("in/side");
    let down = run_allowed(&s3.endpoint, &["cp", "--recursive", "s3://hostile/d", path(&target)]).await;
    assert_eq!(down.code, 2, "{}{}", down.stdout, down.stderr);
    assert_eq!(
        down.stderr, "warning: Skipping file ../../escape.txt. File references a parent directory.\n",
        "{}",
        down.stdout
    );
    assert_eq!(
        down.stdout,
        format!("download: s3://hostile/d/ok.txt to {}\n", target.join("ok.txt").display())
    );
    assert_eq!(std::fs::read(target.join("ok.txt")).unwrap(), b"hello");
    assert!(!outer.path().join("escape.txt").exists() && !outer.path().join("in/escape.txt").exists());
}
