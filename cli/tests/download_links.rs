//! Issue 29, item 5: a symbolic link inside a download's destination (`dst/link -> ../outside`)
//! never carries a key's file out of it. `sync`, `cp --recursive` and `sync --delete` leave
//! `outside/` untouched, say which link stopped which path and why, download the other objects,
//! and end with a non-zero exit when a path was refused.

use crate::common::cli_binary::{ACCESS_KEY, SECRET, run};

use std::path::Path;

use s3_connector_host::Secret;
use s3_connector_local_store::LocalS3;

/// A store with `links/p/link/pwned.txt` and `links/p/ok.txt`, and a local `dst/` holding
/// `link -> ../outside`, beside `outside/` with a file of its own.
struct Scene {
    _store_dir: tempfile::TempDir,
    s3: LocalS3,
    base: tempfile::TempDir,
}

impl Scene {
    async fn new() -> Self {
        let store_dir = tempfile::tempdir().unwrap();
        let s3 = LocalS3::start(store_dir.path(), ACCESS_KEY, Secret::new(SECRET)).await.unwrap();
        let endpoint = s3.endpoint();
        assert_eq!(run(&endpoint, &["mb", "s3://links"]).await.code, 0);
        let base = tempfile::tempdir().unwrap();
        let files = base.path().join("upload");
        std::fs::create_dir_all(files.join("link")).unwrap();
        std::fs::write(files.join("link/pwned.txt"), b"pwned").unwrap();
        std::fs::write(files.join("ok.txt"), b"ok").unwrap();
        let up = run(&endpoint, &["cp", "--recursive", files.to_str().unwrap(), "s3://links/p"]).await;
        assert_eq!(up.code, 0, "{}", up.stderr);
        std::fs::create_dir_all(base.path().join("dst")).unwrap();
        std::fs::create_dir_all(base.path().join("outside")).unwrap();
        std::fs::write(base.path().join("outside/keep.txt"), b"keep").unwrap();
        std::os::unix::fs::symlink("../outside", base.path().join("dst/link")).unwrap();
        Self { _store_dir: store_dir, s3, base }
    }

    fn dst(&self) -> String {
        self.base.path().join("dst").display().to_string()
    }

    /// `outside/` holds exactly what it held before.
    fn assert_outside_untouched(&self, what: &str) {
        let outside = self.base.path().join("outside");
        let mut names: Vec<String> = std::fs::read_dir(&outside)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["keep.txt"], "{what} changed {}", outside.display());
        assert_eq!(std::fs::read(outside.join("keep.txt")).unwrap(), b"keep", "{what}");
    }
}

/// The refusal names the path, the link and the rule.
fn assert_refusal_says_why(stderr: &str, dst: &str) {
    let link = Path::new(dst).join("link").display().to_string();
    assert!(stderr.contains(&format!("{link}/pwned.txt")), "the path is named: {stderr}");
    assert!(
        stderr.contains(&format!("{link} is a symbolic link"))
            && stderr.contains("never writes or deletes through a link"),
        "the link and the rule are named: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cp_recursive_never_writes_through_a_link_in_the_destination() {
    let scene = Scene::new().await;
    let dst = scene.dst();
    let down = run(&scene.s3.endpoint(), &["cp", "--recursive", "s3://links/p/", &dst]).await;
    scene.assert_outside_untouched("cp --recursive");
    assert_eq!(down.code, 1, "a refused path fails the command: {}", down.stderr);
    assert_refusal_says_why(&down.stderr, &dst);
    assert_eq!(std::fs::read(Path::new(&dst).join("ok.txt")).unwrap(), b"ok", "the other objects go on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_never_writes_through_a_link_in_the_destination() {
    let scene = Scene::new().await;
    let dst = scene.dst();
    let synced = run(&scene.s3.endpoint(), &["sync", "s3://links/p", &dst]).await;
    scene.assert_outside_untouched("sync");
    assert_eq!(synced.code, 1, "a refused path fails the command: {}", synced.stderr);
    assert_refusal_says_why(&synced.stderr, &dst);
    assert_eq!(std::fs::read(Path::new(&dst).join("ok.txt")).unwrap(), b"ok", "the other objects go on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_delete_never_deletes_through_a_link_in_the_destination() {
    let scene = Scene::new().await;
    let endpoint = scene.s3.endpoint();
    // Only `ok.txt` in the source: `link/keep.txt`, seen through the link, is not in it.
    assert_eq!(run(&endpoint, &["rm", "s3://links/p/link/pwned.txt"]).await.code, 0);
    let dst = scene.dst();
    let synced = run(&endpoint, &["sync", "--delete", "s3://links/p", &dst]).await;
    scene.assert_outside_untouched("sync --delete");
    assert_eq!(synced.code, 0, "{}", synced.stderr);
    let link = Path::new(&dst).join("link").display().to_string();
    assert!(
        synced.stderr.contains(&format!("{link} is a symbolic link"))
            && synced.stderr.contains("never follows a link"),
        "the skipped link is named with the rule: {}",
        synced.stderr
    );
    assert!(!synced.stdout.contains("delete:"), "{}", synced.stdout);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link itself stays");
}
