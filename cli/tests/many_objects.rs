//! Many objects at once through the `s3-connector` binary (issue 20): `sync` in every direction
//! and mode, `--exclude`/`--include` on the recursive commands, several objects in flight with
//! a failure of one reported by name, and `ls --human-readable --summarize`. Against s3s-fs on
//! 127.0.0.1, or the recording server where a bucket must hold what s3s-fs cannot (hostile keys)
//! or answers must be slow enough to see requests side by side.

use crate::common;
use crate::common::cli_binary;

use std::path::Path;
use std::time::{Duration, SystemTime};

use cli_binary::{ACCESS_KEY, SECRET, run};
use common::recording_server::{Answer, RecordingServer};
use s3_connector_host::Secret;
use s3_connector_local_store::LocalS3;

async fn server(dir: &Path) -> LocalS3 {
    LocalS3::start(dir, ACCESS_KEY, Secret::new(SECRET)).await.expect("the store starts")
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Sets a file's modification time `offset` seconds from now (negative: in the past).
fn touch(path: &Path, offset: i64) {
    let now = SystemTime::now();
    let time = if offset >= 0 {
        now + Duration::from_secs(offset as u64)
    } else {
        now - Duration::from_secs(offset.unsigned_abs())
    };
    std::fs::File::options().write(true).open(path).unwrap().set_modified(time).unwrap();
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The API names of the requests an audit file recorded.
fn audited_actions(audit: &Path) -> Vec<String> {
    std::fs::read_to_string(audit)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter_map(|record| record["action"].as_str().map(str::to_owned))
        .collect()
}

fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
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
async fn sync_up_copies_what_differs_and_a_second_run_only_lists() {
    let store = tempfile::tempdir().unwrap();
    let s3 = server(store.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://sync-up"]).await.code, 0);
    let local = tempfile::tempdir().unwrap();
    let (a, b) = (local.path().join("a.txt"), local.path().join("sub/b.txt"));
    write(&a, b"alpha");
    write(&b, b"bravo");
    touch(&a, -60);
    touch(&b, -60);

    let first = run(&endpoint, &["sync", path(local.path()), "s3://sync-up/site"]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(
        sorted_lines(&first.stdout),
        [
            format!("upload: {} to s3://sync-up/site/a.txt", a.display()),
            format!("upload: {} to s3://sync-up/site/sub/b.txt", b.display()),
        ]
    );

    // Nothing changed: one listing of the bucket (the local side costs no request), nothing else.
    let work = tempfile::tempdir().unwrap();
    let audit = work.path().join("audit.jsonl");
    let before = s3.requests_received();
    let again =
        run(&endpoint, &["--audit", path(&audit), "sync", path(local.path()), "s3://sync-up/site"]).await;
    assert_eq!((again.code, again.stdout.as_str()), (0, ""), "{}", again.stderr);
    assert_eq!(s3.requests_received() - before, 1);
    assert_eq!(audited_actions(&audit), ["ListObjectsV2"]);

    // A new size is copied; a newer time with the same size too, unless --size-only.
    write(&a, b"alpha, longer");
    touch(&a, -60);
    let changed = run(&endpoint, &["sync", path(local.path()), "s3://sync-up/site"]).await;
    assert_eq!(changed.stdout.trim(), format!("upload: {} to s3://sync-up/site/a.txt", a.display()));
    write(&b, b"BRAVO");
    touch(&b, 3600);
    let size_only = run(&endpoint, &["sync", "--size-only", path(local.path()), "s3://sync-up/site"]).await;
    assert_eq!((size_only.code, size_only.stdout.as_str()), (0, ""), "{}", size_only.stderr);
    let newer = run(&endpoint, &["sync", path(local.path()), "s3://sync-up/site"]).await;
    assert_eq!(newer.stdout.trim(), format!("upload: {} to s3://sync-up/site/sub/b.txt", b.display()));
    touch(&b, -60);
    let json = run(&endpoint, &["--json", "sync", path(local.path()), "s3://sync-up/site"]).await;
    let summary: serde_json::Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(summary["summary"], serde_json::json!({"copied": 0, "deleted": 0, "skipped": 2, "failed": 0}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_down_follows_the_aws_cli_time_rules() {
    let store = tempfile::tempdir().unwrap();
    let s3 = server(store.path()).await;
    let endpoint = s3.endpoint();
    let source = tempfile::tempdir().unwrap();
    write(&source.path().join("one.txt"), b"one");
    write(&source.path().join("deep/two.txt"), b"two");
    assert_eq!(run(&endpoint, &["mb", "s3://down"]).await.code, 0);
    assert_eq!(run(&endpoint, &["cp", "--recursive", path(source.path()), "s3://down/d"]).await.code, 0);

    let target = tempfile::tempdir().unwrap();
    let into = target.path().join("new-dir");
    let first = run(&endpoint, &["sync", "s3://down/d/", path(&into)]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.stdout.lines().count(), 2, "{}", first.stdout);
    assert_eq!(std::fs::read(into.join("deep/two.txt")).unwrap(), b"two");

    let before = s3.requests_received();
    let again = run(&endpoint, &["sync", "s3://down/d", path(&into)]).await;
    assert_eq!((again.code, again.stdout.as_str()), (0, ""), "{}", again.stderr);
    assert_eq!(s3.requests_received() - before, 1, "only the listing");

    // Same size: a local file newer than the object is replaced; an older one is kept, unless
    // --exact-timestamps.
    let one = into.join("one.txt");
    std::fs::write(&one, b"ONE").unwrap();
    touch(&one, 3600);
    let newer = run(&endpoint, &["sync", "s3://down/d", path(&into)]).await;
    assert_eq!(newer.stdout.trim(), format!("download: s3://down/d/one.txt to {}", one.display()));
    assert_eq!(std::fs::read(&one).unwrap(), b"one");
    std::fs::write(&one, b"ONE").unwrap();
    touch(&one, -3600);
    let older = run(&endpoint, &["sync", "s3://down/d", path(&into)]).await;
    assert_eq!(older.stdout, "");
    let exact = run(&endpoint, &["sync", "--exact-timestamps", "s3://down/d", path(&into)]).await;
    assert_eq!(exact.stdout.trim(), format!("download: s3://down/d/one.txt to {}", one.display()));
    assert_eq!(std::fs::read(&one).unwrap(), b"one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_between_folders_copies_server_side() {
    let store = tempfile::tempdir().unwrap();
    let s3 = server(store.path()).await;
    let endpoint = s3.endpoint();
    let source = tempfile::tempdir().unwrap();
    write(&source.path().join("x.bin"), &[1u8; 3000]);
    write(&source.path().join("y/z.bin"), &[2u8; 10]);
    for bucket in ["s3://from", "s3://to-bucket"] {
        assert_eq!(run(&endpoint, &["mb", bucket]).await.code, 0);
    }
    assert_eq!(run(&endpoint, &["cp", "--recursive", path(source.path()), "s3://from/f"]).await.code, 0);

    let work = tempfile::tempdir().unwrap();
    let audit = work.path().join("audit.jsonl");
    let copied = run(&endpoint, &["--audit", path(&audit), "sync", "s3://from/f", "s3://to-bucket/g/"]).await;
    assert_eq!(copied.code, 0, "{}", copied.stderr);
    assert_eq!(
        sorted_lines(&copied.stdout),
        [
            "copy: s3://from/f/x.bin to s3://to-bucket/g/x.bin",
            "copy: s3://from/f/y/z.bin to s3://to-bucket/g/y/z.bin"
        ]
    );
    let mut actions = audited_actions(&audit);
    actions.sort();
    assert_eq!(actions, ["CopyObject", "CopyObject", "ListObjectsV2", "ListObjectsV2"], "no GET, no PUT");

    let before = s3.requests_received();
    let again = run(&endpoint, &["sync", "s3://from/f", "s3://to-bucket/g"]).await;
    assert_eq!((again.code, again.stdout.as_str()), (0, ""), "{}", again.stderr);
    assert_eq!(s3.requests_received() - before, 2, "one listing of each side");
    let overlap = run(&endpoint, &["sync", "s3://from/f", "s3://from/f/inner"]).await;
    assert_eq!(overlap.code, 2, "{}", overlap.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_delete_dryrun_and_filters() {
    let store = tempfile::tempdir().unwrap();
    let s3 = server(store.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://del"]).await.code, 0);
    let local = tempfile::tempdir().unwrap();
    write(&local.path().join("keep.txt"), b"keep");
    let extra = tempfile::tempdir().unwrap();
    write(&extra.path().join("gone.txt"), b"gone");
    write(&extra.path().join("server.log"), b"log");
    assert_eq!(run(&endpoint, &["cp", "--recursive", path(extra.path()), "s3://del/p"]).await.code, 0);

    // --dryrun prints every action and sends nothing but the listing.
    let before = s3.requests_received();
    let dry = run(&endpoint, &["sync", "--delete", "--dryrun", path(local.path()), "s3://del/p"]).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(
        sorted_lines(&dry.stdout),
        [
            "(dryrun) delete: s3://del/p/gone.txt".to_owned(),
            "(dryrun) delete: s3://del/p/server.log".to_owned(),
            format!("(dryrun) upload: {} to s3://del/p/keep.txt", local.path().join("keep.txt").display()),
        ]
    );
    assert_eq!(s3.requests_received() - before, 1);

    // An excluded path is neither copied nor deleted, as the aws CLI documents.
    let synced =
        run(&endpoint, &["sync", "--delete", "--exclude", "*.log", path(local.path()), "s3://del/p"]).await;
    assert_eq!(synced.code, 0, "{}", synced.stderr);
    assert!(synced.stdout.contains("delete: s3://del/p/gone.txt"), "{}", synced.stdout);
    assert!(!synced.stdout.contains("server.log"), "{}", synced.stdout);
    let listed = run(&endpoint, &["ls", "--recursive", "s3://del/p/"]).await.stdout;
    assert!(listed.contains("p/keep.txt") && listed.contains("p/server.log"), "{listed}");
    assert!(!listed.contains("gone.txt"), "{listed}");

    // Down with --delete: local files the folder lacks go, once the copies are made.
    let mirror = tempfile::tempdir().unwrap();
    write(&mirror.path().join("stale/old.txt"), b"old");
    let down = run(&endpoint, &["sync", "--delete", "s3://del/p", path(mirror.path())]).await;
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert!(!mirror.path().join("stale/old.txt").exists());
    assert_eq!(std::fs::read(mirror.path().join("keep.txt")).unwrap(), b"keep");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_checksum_finds_changes_that_size_and_time_miss() {
    let store = tempfile::tempdir().unwrap();
    let s3 = server(store.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://sums"]).await.code, 0);
    let local = tempfile::tempdir().unwrap();
    let file = local.path().join("data.bin");
    write(&file, b"original bytes");
    touch(&file, -3600);
    let up = run(&endpoint, &["sync", "--checksum", path(local.path()), "s3://sums/c"]).await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    let head: serde_json::Value =
        serde_json::from_str(&run(&endpoint, &["head", "s3://sums/c/data.bin"]).await.stdout).unwrap();
    assert_eq!(head["checksum"]["algorithm"], "CRC64NVME", "{head}");

    // Same size, an older time: the time rule keeps the object, the checksum does not.
    std::fs::write(&file, b"CHANGED bytes!").unwrap();
    touch(&file, -3600);
    let by_time = run(&endpoint, &["sync", path(local.path()), "s3://sums/c"]).await;
    assert_eq!(by_time.stdout, "");
    let unchanged_check =
        run(&endpoint, &["sync", "--checksum", "--dryrun", path(local.path()), "s3://sums/c"]).await;
    assert!(unchanged_check.stdout.contains("(dryrun) upload:"), "{}", unchanged_check.stdout);
    let by_sum = run(&endpoint, &["sync", "--checksum", path(local.path()), "s3://sums/c"]).await;
    assert_eq!(by_sum.stdout.trim(), format!("upload: {} to s3://sums/c/data.bin", file.display()));
    let same = run(&endpoint, &["sync", "--checksum", path(local.path()), "s3://sums/c"]).await;
    assert_eq!((same.code, same.stdout.as_str()), (0, ""), "{}", same.stderr);

    // Down: a same-sized local file, older than the object, with other bytes.
    let mirror = tempfile::tempdir().unwrap();
    let copy = mirror.path().join("data.bin");
    write(&copy, b"different byte");
    touch(&copy, -7200);
    let kept = run(&endpoint, &["sync", "s3://sums/c", path(mirror.path())]).await;
    assert_eq!(kept.stdout, "");
    let fetched = run(&endpoint, &["sync", "--checksum", "s3://sums/c", path(mirror.path())]).await;
    assert_eq!(fetched.code, 0, "{}", fetched.stderr);
    assert_eq!(std::fs::read(&copy).unwrap(), b"CHANGED bytes!");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_follows_symbolic_links_unless_told_not_to() {
    let store = tempfile::tempdir().unwrap();
    let s3 = server(store.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://links"]).await.code, 0);
    let local = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    write(&local.path().join("real.txt"), b"real");
    write(&elsewhere.path().join("inner.txt"), b"inner");
    std::os::unix::fs::symlink(local.path().join("real.txt"), local.path().join("link.txt")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), local.path().join("dir")).unwrap();
    // A loop back to the root is walked once, and a dangling link is skipped with a warning.
    std::os::unix::fs::symlink(local.path(), local.path().join("loop")).unwrap();
    std::os::unix::fs::symlink(local.path().join("missing"), local.path().join("dangling")).unwrap();

    let keys = async |bucket_folder: &str| -> Vec<String> {
        listed_keys(&run(&endpoint, &["--json", "ls", "--recursive", bucket_folder]).await.stdout)
    };
    let skipped = run(&endpoint, &["sync", "--no-follow-symlinks", path(local.path()), "s3://links/n"]).await;
    assert_eq!(skipped.code, 0, "{}", skipped.stderr);
    assert_eq!(keys("s3://links/n/").await, ["n/real.txt"]);
    let followed = run(&endpoint, &["sync", path(local.path()), "s3://links/f"]).await;
    assert_eq!(followed.code, 0, "{}", followed.stderr);
    assert!(followed.stderr.contains("dangling is a broken symbolic link"), "{}", followed.stderr);
    assert_eq!(keys("s3://links/f/").await, ["f/dir/inner.txt", "f/link.txt", "f/real.txt"]);
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
async fn sync_refuses_keys_that_cannot_be_local_paths_by_name() {
    let s3 = RecordingServer::start().await;
    let long = format!("d/{}", "n".repeat(300));
    let keys = ["d/../../escape.txt", "d/ok.txt", "d/a/./b.txt", long.as_str()];
    s3.answer_next([Answer { status: 200, headers: vec![], body: listing("hostile", &keys) }]);
    s3.answer(Answer { status: 200, headers: vec![("etag", "\"e\"".to_owned())], body: "hello".to_owned() });
    let outer = tempfile::tempdir().unwrap();
    let target = outer.path().join("in/side");
    let down = run(&s3.endpoint, &["sync", "s3://hostile/d", path(&target)]).await;
    assert_eq!(down.code, 1, "{}{}", down.stdout, down.stderr);
    for refused in ["d/../../escape.txt", "d/a/./b.txt", "too long"] {
        assert!(down.stderr.contains(refused), "{refused} in {}", down.stderr);
    }
    assert!(down.stderr.contains("1 copied, 0 deleted, 0 skipped, 3 failed"), "{}", down.stderr);
    assert_eq!(std::fs::read(target.join("ok.txt")).unwrap(), b"hello");
    assert!(!outer.path().join("escape.txt").exists() && !outer.path().join("in/escape.txt").exists());
    let gets = s3.requests().iter().filter(|r| r.method == "GET" && !r.uri.contains("list-type")).count();
    assert_eq!(gets, 1, "only the plain key is fetched: {:?}", s3.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_object_is_named_and_the_others_carry_on() {
    let store = tempfile::tempdir().unwrap();
    let s3 = server(store.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://many"]).await.code, 0);
    let local = tempfile::tempdir().unwrap();
    for name in ["a.txt", "b.txt", "c.txt"] {
        write(&local.path().join(name), name.as_bytes());
    }
    // The policy lets every file through but b.txt: the host refuses that one object.
    let policy = ["--allow", "many=list", "--allow", "many/up/a=write", "--allow", "many/up/c=write"];
    let mut args: Vec<&str> = policy.to_vec();
    args.extend(["cp", "--recursive", path(local.path()), "s3://many/up"]);
    let cp = run(&endpoint, &args).await;
    assert_eq!(cp.code, 1, "{}{}", cp.stdout, cp.stderr);
    assert!(cp.stderr.contains("b.txt"), "{}", cp.stderr);
    assert!(cp.stderr.contains("2 copied, 0 deleted, 0 skipped, 1 failed"), "{}", cp.stderr);
    assert_eq!(cp.stdout.lines().count(), 2, "{}", cp.stdout);

    // sync, with --json: the failure as a JSON error naming the object, the summary last on
    // stdout, and no delete made while a copy failed.
    let mut args: Vec<&str> = policy.to_vec();
    args.extend([
        "--allow",
        "many/up/=delete",
        "--json",
        "sync",
        "--delete",
        path(local.path()),
        "s3://many/up",
    ]);
    write(&local.path().join("b.txt"), b"bigger now");
    write(&local.path().join("a.txt"), b"bigger too");
    std::fs::remove_file(local.path().join("c.txt")).unwrap();
    let sync = run(&endpoint, &args).await;
    assert_eq!(sync.code, 1, "{}{}", sync.stdout, sync.stderr);
    let failure = sync.stderr.lines().find(|l| l.contains("\"object\"")).expect("a failure line");
    let failure: serde_json::Value = serde_json::from_str(failure).unwrap();
    assert!(failure["error"]["object"].as_str().unwrap().ends_with("b.txt"), "{failure}");
    assert_eq!(failure["error"]["code"], "denied-by-host", "{failure}");
    let summary: serde_json::Value = serde_json::from_str(sync.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["summary"], serde_json::json!({"copied": 1, "deleted": 0, "skipped": 0, "failed": 1}));
    let listed = run(&endpoint, &["ls", "--recursive", "s3://many/up/"]).await.stdout;
    assert!(listed.contains("up/c.txt"), "not deleted while a copy failed: {listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recursive_downloads_keep_several_objects_in_flight() {
    let s3 = RecordingServer::start().await;
    let keys: Vec<String> = (0..8).map(|i| format!("d/k{i}.txt")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    s3.answer_next([Answer { status: 200, headers: vec![], body: listing("slow", &keys) }]);
    s3.answer(Answer { status: 200, headers: vec![("etag", "\"e\"".to_owned())], body: "hello".to_owned() });
    s3.delay(Duration::from_millis(300));
    let target = tempfile::tempdir().unwrap();
    let down =
        run(&s3.endpoint, &["cp", "--recursive", "--concurrency", "4", "s3://slow/d", path(target.path())])
            .await;
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(std::fs::read_dir(target.path()).unwrap().count(), 8);
    assert_eq!(s3.max_in_flight(), 4, "four objects side by side, never more");

    let zero = run(&s3.endpoint, &["cp", "--recursive", "--concurrency", "0", "s3://slow/d", "x"]).await;
    assert_eq!(zero.code, 2, "{}", zero.stderr);

    // sync too, with its default of 10 (8 objects: all at once).
    let s3 = RecordingServer::start().await;
    s3.answer_next([Answer { status: 200, headers: vec![], body: listing("slow", &keys) }]);
    s3.answer(Answer { status: 200, headers: vec![("etag", "\"e\"".to_owned())], body: "hello".to_owned() });
    s3.delay(Duration::from_millis(300));
    let target = tempfile::tempdir().unwrap();
    let synced = run(&s3.endpoint, &["sync", "s3://slow/d", path(target.path())]).await;
    assert_eq!(synced.code, 0, "{}", synced.stderr);
    assert_eq!(std::fs::read_dir(target.path()).unwrap().count(), 8);
    assert_eq!(s3.max_in_flight(), 8, "every object side by side");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_apply_to_cp_mv_rm_and_ls_in_order() {
    let store = tempfile::tempdir().unwrap();
    let s3 = server(store.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://filt"]).await.code, 0);
    let local = tempfile::tempdir().unwrap();
    for name in ["a.txt", "b.jpg", "logs/c.txt", "logs/d.log"] {
        write(&local.path().join(name), b"x");
    }
    // The last matching pattern decides: everything out, then the .txt files back.
    let up = run(
        &endpoint,
        &["cp", "--recursive", "--exclude", "*", "--include", "*.txt", path(local.path()), "s3://filt/f"],
    )
    .await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    let ls = |extra: &'static [&'static str]| {
        let endpoint = endpoint.clone();
        async move {
            let mut args = vec!["--json", "ls", "--recursive"];
            args.extend(extra);
            args.push("s3://filt/");
            listed_keys(&run(&endpoint, &args).await.stdout)
        }
    };
    assert_eq!(ls(&[]).await, ["f/a.txt", "f/logs/c.txt"]);
    // The other order: --include then --exclude "*" leaves everything out.
    let none = run(
        &endpoint,
        &["cp", "--recursive", "--include", "*.txt", "--exclude", "*", path(local.path()), "s3://filt/g"],
    )
    .await;
    assert_eq!((none.code, none.stdout.as_str()), (0, ""), "{}", none.stderr);
    assert_eq!(
        ls(&["--exclude", "f/logs/*"]).await,
        ["f/a.txt"],
        "ls patterns are relative to the bucket here"
    );

    let moved =
        run(&endpoint, &["mv", "--recursive", "--exclude", "logs/*", "s3://filt/f", "s3://filt/m"]).await;
    assert_eq!(moved.code, 0, "{}", moved.stderr);
    assert_eq!(ls(&[]).await, ["f/logs/c.txt", "m/a.txt"]);
    let removed = run(
        &endpoint,
        &["--json", "rm", "--recursive", "--exclude", "*", "--include", "logs/*", "s3://filt/f"],
    )
    .await;
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    assert_eq!(ls(&[]).await, ["m/a.txt"]);
    // --json ends with the same summary line as cp --recursive and sync.
    let last: serde_json::Value = serde_json::from_str(removed.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last, serde_json::json!({"summary": {"copied": 0, "deleted": 1, "skipped": 0, "failed": 0}}));
    let single =
        run(&endpoint, &["cp", "--exclude", "*", path(&local.path().join("a.txt")), "s3://filt/x"]).await;
    assert_eq!(single.code, 2, "{}", single.stderr);
    assert!(single.stderr.contains("--recursive"), "{}", single.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_human_readable_and_summarize() {
    let store = tempfile::tempdir().unwrap();
    let s3 = server(store.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://sizes"]).await.code, 0);
    let local = tempfile::tempdir().unwrap();
    write(&local.path().join("small"), &[0u8; 1]);
    write(&local.path().join("kib"), &[0u8; 1536]);
    assert_eq!(run(&endpoint, &["cp", "--recursive", path(local.path()), "s3://sizes/s"]).await.code, 0);

    let listed =
        run(&endpoint, &["ls", "--recursive", "--human-readable", "--summarize", "s3://sizes/s/"]).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let lines: Vec<&str> = listed.stdout.lines().collect();
    assert!(lines[0].ends_with("   1.5 KiB s/kib"), "{}", listed.stdout);
    assert!(lines[1].ends_with("    1 Byte s/small"), "{}", listed.stdout);
    assert_eq!(lines[2..], ["", "Total Objects: 2", "   Total Size: 1.5 KiB"]);
    let plain = run(&endpoint, &["ls", "--summarize", "s3://sizes/s/"]).await;
    assert!(plain.stdout.ends_with("Total Objects: 2\n   Total Size: 1537\n"), "{}", plain.stdout);
    // JSON lines: one object a line (key, size, lastModified, etag, storageClass), then the
    // summary's line.
    let json = run(&endpoint, &["--json", "ls", "--summarize", "s3://sizes/s/"]).await.stdout;
    let lines: Vec<serde_json::Value> = json.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "{json}");
    assert_eq!((lines[0]["key"].as_str(), lines[0]["size"].as_u64()), (Some("s/kib"), Some(1536)));
    for field in ["lastModified", "etag", "storageClass"] {
        assert!(lines[0].get(field).is_some(), "{field}: {json}");
    }
    assert_eq!(lines[2], serde_json::json!({"summary": {"objects": 2, "bytes": 1537}}));
}
