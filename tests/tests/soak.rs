//! A bounded soak through `serve`: 64 clients at once run mixed operations (put, get, list,
//! delete, actions) for a fixed time while a fault-injection proxy between the connector and
//! s3s-fs keeps breaking requests (503, 500, resets, delays). Errors are counted, memory must
//! stay flat, and every write that was acknowledged must be on the server afterwards with the
//! right bytes.
//!
//! The default run lasts 15 s (CI); `S3_CONNECTOR_SOAK_SECONDS=300` runs longer, and the
//! summary line printed at the end is what BENCHMARKS.md quotes.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use s3_connector_host::{Policy, Secret};
use s3_connector_serve::{ClientAuth, Server};
use s3_connector_tests::TestServer;
use s3_connector_tests::fault_proxy::{Fault, FaultProxy};
use s3_connector_tests::http_client::{bytes, call, peak_rss};

const TOKEN: &str = "soak-token";
const CLIENTS: usize = 64;
/// Each client stops after this many operations even if time is left.
const MAX_OPS_PER_CLIENT: usize = 20_000;

/// The content of write `n` of client `client`: its length and bytes follow from the names.
fn content(client: usize, n: usize) -> Vec<u8> {
    let length = (client * 7919 + n * 104_729) % (256 * 1024) + 1;
    (0..length).map(|i| (i as u64 ^ (client as u64) << 8 ^ n as u64).wrapping_mul(31) as u8).collect()
}

#[derive(Default)]
struct Tally {
    ops: BTreeMap<&'static str, u64>,
    errors: BTreeMap<String, u64>,
}

impl Tally {
    fn op(&mut self, kind: &'static str) {
        *self.ops.entry(kind).or_default() += 1;
    }

    fn error(&mut self, kind: &'static str, what: String) {
        *self.errors.entry(format!("{kind} {what}")).or_default() += 1;
    }
}

async fn client(
    address: SocketAddr,
    id: usize,
    deadline: Instant,
    tally: Arc<Mutex<Tally>>,
) -> BTreeMap<String, usize> {
    let auth = format!("Bearer {TOKEN}");
    let headers = [("authorization", auth.as_str())];
    let mut acknowledged: BTreeMap<String, usize> = BTreeMap::new();
    for n in 0..MAX_OPS_PER_CLIENT {
        if Instant::now() >= deadline {
            break;
        }
        let key = format!("c{id}/k{n}");
        let (kind, outcome) = match n % 10 {
            // Most operations write, then read back what was acknowledged.
            0..=4 => {
                let result =
                    call(address, "PUT", &format!("/soak/{key}"), &headers, bytes(content(id, n))).await;
                if let Ok((200, _)) = result {
                    acknowledged.insert(key, n);
                }
                ("put", result.map(|(status, _)| status))
            }
            5..=7 => match acknowledged.iter().next_back() {
                Some((key, written)) => {
                    let result = call(address, "GET", &format!("/soak/{key}"), &headers, bytes("")).await;
                    if let Ok((200, body)) = &result {
                        assert_eq!(
                            body.as_ref(),
                            content(id, *written).as_slice(),
                            "GET {key} returned other bytes"
                        );
                    }
                    ("get", result.map(|(status, _)| status))
                }
                None => continue,
            },
            8 => {
                let result =
                    call(address, "GET", &format!("/soak/?prefix=c{id}/&max-keys=20"), &headers, bytes(""))
                        .await;
                ("list", result.map(|(status, _)| status))
            }
            _ => match acknowledged.keys().next().cloned() {
                Some(key) => {
                    let result = call(address, "DELETE", &format!("/soak/{key}"), &headers, bytes("")).await;
                    if let Ok((204, _)) = result {
                        acknowledged.remove(&key);
                    }
                    ("delete", result.map(|(status, _)| status))
                }
                None => continue,
            },
        };
        let mut tally = tally.lock().unwrap();
        tally.op(kind);
        match outcome {
            Ok(200 | 204) => {}
            Ok(status) => tally.error(kind, format!("HTTP {status}")),
            Err(e) => tally.error(kind, e.split(':').next().unwrap_or("client").to_owned()),
        }
    }
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_operations_under_faults_lose_nothing_and_keep_memory_flat() {
    let seconds: u64 =
        std::env::var("S3_CONNECTOR_SOAK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(15);
    let s3 = TestServer::start().await;
    s3.admin().create_bucket("soak").await.unwrap();
    let proxy = Arc::new(FaultProxy::start(&s3.connection().endpoint.url()).await);
    let connector = s3.connector_via(proxy.endpoint(), Policy::allow_all());
    let server =
        Server::bind("127.0.0.1:0".parse().unwrap(), connector, ClientAuth::Bearer(Secret::new(TOKEN)))
            .await
            .unwrap();
    let address = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));

    // Faults at a steady rate for the whole run: one every 20 ms, in rotation.
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let injector = {
        let proxy = proxy.clone();
        tokio::spawn(async move {
            let faults = [
                Fault::Error { status: 503, code: "SlowDown" },
                Fault::Reset,
                Fault::Delay(Duration::from_millis(100)),
                Fault::Error { status: 500, code: "InternalError" },
            ];
            let mut injected = 0u64;
            while Instant::now() < deadline {
                if proxy.pending() < 4 {
                    proxy.inject([faults[injected as usize % faults.len()].clone()]);
                    injected += 1;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            injected
        })
    };

    let tally = Arc::new(Mutex::new(Tally::default()));
    // The first seconds warm the pool, the compiled component and the allocator up.
    let warm = peak_rss();
    let clients: Vec<_> =
        (0..CLIENTS).map(|id| tokio::spawn(client(address, id, deadline, tally.clone()))).collect();
    let mut acknowledged = Vec::new();
    for (id, handle) in clients.into_iter().enumerate() {
        acknowledged.extend(handle.await.unwrap().into_iter().map(|(key, n)| (id, key, n)));
    }
    let elapsed = started.elapsed();
    let injected = injector.await.unwrap();
    stop.send(()).unwrap();
    assert_eq!(serving.await.unwrap(), 0, "the drain finished every request");

    // Every acknowledged write that was not deleted is on the server with its bytes.
    for (id, key, n) in &acknowledged {
        let stored = std::fs::read(s3.object_path("soak", key))
            .unwrap_or_else(|e| panic!("{key} was acknowledged: {e}"));
        assert_eq!(stored, content(*id, *n), "{key} holds other bytes than acknowledged");
    }
    let tally = tally.lock().unwrap();
    let total: u64 = tally.ops.values().sum();
    let errors: u64 = tally.errors.values().sum();
    let growth = peak_rss().saturating_sub(warm);
    eprintln!(
        "soak: {seconds} s, {CLIENTS} clients, {total} operations ({:.0}/s) {:?}; {injected} faults injected; \
         {errors} failed {:?}; {} acknowledged writes verified on the server; peak RSS growth {} MiB",
        total as f64 / elapsed.as_secs_f64(),
        tally.ops,
        tally.errors,
        acknowledged.len(),
        growth >> 20
    );
    assert!(total >= CLIENTS as u64, "every client ran");
    assert!(injected > 0);
    // Retries absorb the faults (every body here is small enough to be replayed); what may fail
    // is a request whose every attempt met a fault.
    assert!(errors * 20 <= total, "{errors} of {total} operations failed: {:?}", tally.errors);
    for what in tally.errors.keys() {
        assert!(
            what.contains("HTTP 5") || what.contains("send") || what.contains("body"),
            "unexpected failure: {what}"
        );
    }
    assert!(growth < 256 * 1024 * 1024, "peak RSS grew by {} MiB", growth >> 20);
}
