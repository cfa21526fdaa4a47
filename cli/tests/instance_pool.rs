//! The instance pool is process-wide and sized once, so this test has a process of its own.

mod common;

use std::time::Duration;

use s3_connector_host::Secret;
use s3_connector_host::instances;

/// More calls than the pool has instances: they wait for a slot instead of failing in the
/// allocator, and never more than the pool run at once. Once they are over, the pages their
/// slots keep resident can be released, and a call after that runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_beyond_the_instance_pool_wait_for_a_slot() {
    instances::configure(2).unwrap();
    let server = common::recording_server::RecordingServer::start().await;
    server.answer(common::recording_server::Answer { status: 200, headers: vec![], body: String::new() });
    server.delay(Duration::from_millis(100));
    let connector = common::connector_at(&server.endpoint, "AKPOOL0000000000001", &Secret::new("pool"), &[]);
    let calls = (0..8).map(|i| {
        let connector = connector.clone();
        tokio::spawn(async move { connector.head_bucket(&format!("pool-{i}")).await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap_or_else(|e| panic!("a call beyond the pool failed: {e}"));
    }
    assert_eq!(server.requests().len(), 8);
    assert_eq!(server.max_in_flight(), 2, "two instances at a time, and both used");

    // Idle now: the pages the two freed slots keep resident go back to the system, once.
    let released = instances::release_idle_memory().expect("no sandbox is in use");
    assert!(released > 0, "the slots the calls used kept pages resident");
    assert_eq!(instances::release_idle_memory(), Some(0), "nothing is left to release");
    // Not while a call holds a sandbox (its request waits at the server): the release would
    // take slots a caller may be waiting for. The call runs on, and ends well.
    let busy = tokio::spawn({
        let connector = connector.clone();
        async move { connector.head_bucket("pool-busy").await }
    });
    while server.requests().len() < 9 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(instances::release_idle_memory(), None);
    busy.await.unwrap().unwrap();
}
