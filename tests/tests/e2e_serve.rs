//! `serve` end to end: the edge component under the project's own wasi:http host, in front of
//! s3s-fs. Objects in and out, listings, actions, errors, the token, the policy, a 256 MiB
//! object streamed both ways with flat memory, and a shutdown that drains; the routes, the
//! policy and a 64 MiB object again with the WASI 0.3 edge component (`serve --edge p3`).

use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::{Bytes, Frame};
use s3_connector_host::EdgeWorld;
use s3_connector_host::Policy;
use s3_connector_serve::{ClientAuth, ServeLimits};
use s3_connector_tests::http_client::{self, Body, bytes, peak_rss};
use s3_connector_tests::serving::{Serving, TOKEN};
use s3_connector_tests::{TestServer, policy};

async fn send(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Body,
) -> hyper::Response<hyper::body::Incoming> {
    http_client::send(address, method, path, headers, body).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_listings_and_actions_through_serve() {
    objects_listings_and_actions(EdgeWorld::P2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_listings_and_actions_through_serve_with_the_p3_edge() {
    objects_listings_and_actions(EdgeWorld::P3).await;
}

/// Every route, an error, the policy's refusal, through `world`'s edge component.
async fn objects_listings_and_actions(world: EdgeWorld) {
    let s3 = TestServer::start().await;
    s3.admin().create_bucket("edge").await.unwrap();
    s3.admin().create_bucket("other").await.unwrap();
    let serving = Serving::start_edge(s3.connector(policy(&["edge"])), world, ServeLimits::default()).await;
    let a = serving.address;
    let call = async |method, path, body| serving.call(method, path, body).await;

    let (status, body) = call("PUT", "/edge/dir/hello%20world.txt", "hello from the edge").await;
    assert_eq!(status, 200, "{body}");
    let put: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((put["bucket"].as_str(), put["key"].as_str()), (Some("edge"), Some("dir/hello world.txt")));
    assert!(put["etag"].is_string());
    assert_eq!(std::fs::read(s3.object_path("edge", "dir/hello world.txt")).unwrap(), b"hello from the edge");

    let auth = format!("Bearer {TOKEN}");
    let got = send(a, "GET", "/edge/dir/hello%20world.txt", &[("authorization", &auth)], bytes("")).await;
    assert_eq!(got.status(), 200);
    let headers = got.headers().clone();
    assert_eq!(headers["content-length"], "19");
    assert!(headers.contains_key("etag") && headers.contains_key("last-modified"), "{headers:?}");
    assert_eq!(got.into_body().collect().await.unwrap().to_bytes(), "hello from the edge");

    let ranged = send(
        a,
        "GET",
        "/edge/dir/hello%20world.txt",
        &[("authorization", &auth), ("range", "bytes=0-4")],
        bytes(""),
    )
    .await;
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.headers()["content-range"], "bytes 0-4/19");
    assert_eq!(ranged.into_body().collect().await.unwrap().to_bytes(), "hello");

    let head = send(a, "HEAD", "/edge/dir/hello%20world.txt", &[("authorization", &auth)], bytes("")).await;
    assert_eq!((head.status().as_u16(), head.headers()["content-length"].to_str().unwrap()), (200, "19"));

    let (status, listing) = call("GET", "/edge/?prefix=dir%2F&delimiter=/", "").await;
    assert_eq!(status, 200, "{listing}");
    let listing: serde_json::Value = serde_json::from_str(&listing).unwrap();
    assert_eq!(listing["objects"][0]["key"], "dir/hello world.txt");

    let (status, answer) =
        call("POST", "/actions", r#"{"action":"headObject","bucket":"edge","key":"dir/hello world.txt"}"#)
            .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("\"size\":19"), "{answer}");
    let (status, answer) = call("POST", "/actions", r#"{"action":"nope"}"#).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("unknown-action"), "{answer}");

    let (status, missing) = call("GET", "/edge/nothing-here", "").await;
    assert_eq!(status, 404, "{missing}");
    assert!(missing.contains("no-such-key"), "{missing}");

    // The policy applies: nothing reaches the server for another bucket.
    let before = s3.requests_received();
    let (status, denied) = call("GET", "/other/secret.txt", "").await;
    assert_eq!(status, 403, "{denied}");
    assert!(denied.contains("denied-by-host"), "{denied}");
    assert_eq!(s3.requests_received(), before);

    let (status, _) = call("DELETE", "/edge/dir/hello%20world.txt", "").await;
    assert_eq!(status, 204);
    assert!(!s3.object_path("edge", "dir/hello world.txt").exists());
    let (status, _) = call("PATCH", "/edge/x", "").await;
    assert_eq!(status, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_required() {
    let s3 = TestServer::start().await;
    let serving = Serving::start(s3.connector(Policy::allow_all())).await;
    let before = s3.requests_received();
    for headers in [vec![], vec![("authorization", "Bearer wrong")], vec![("authorization", TOKEN)]] {
        let response = send(serving.address, "GET", "/edge/k", &headers, bytes("")).await;
        assert_eq!(response.status(), 401, "{headers:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
    }
    assert_eq!(s3.requests_received(), before, "refused clients cause no S3 request");
    assert!(ClientAuth::choose(None, false, serving.address).is_err());
}

/// A cheap, position-dependent byte pattern, so that a misplaced chunk is caught.
fn pattern_byte(position: u64) -> u8 {
    (position.wrapping_mul(2_654_435_761) >> 13) as u8
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_256_mib_object_streams_through_with_flat_memory_and_shutdown_drains() {
    streams_with_flat_memory_and_drains(EdgeWorld::P2, 256).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_64_mib_object_streams_through_the_p3_edge_with_flat_memory_and_shutdown_drains() {
    // 64 MiB, not 256: the WASI 0.3 component copies a download through its memory (the 0.2
    // one has the host splice it), which a debug build does at a fraction of the speed.
    streams_with_flat_memory_and_drains(EdgeWorld::P3, 64).await;
}

/// An object of `mib` MiB up (a stream of unknown length: multipart) and down through `world`'s
/// edge component, bytes checked, with the server stopped mid-download: the request finishes.
async fn streams_with_flat_memory_and_drains(world: EdgeWorld, mib: u64) {
    // One at a time: the peak resident memory measured is the whole test process's, which the
    // other world's large object would add to.
    static ONE_LARGE_OBJECT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _alone = ONE_LARGE_OBJECT.lock().await;
    let size: u64 = mib * 1024 * 1024;
    const CHUNK: u64 = 1024 * 1024;
    let s3 = TestServer::start().await;
    s3.admin().create_bucket("big").await.unwrap();
    // The drain below waits for a 256 MiB answer of a debug build on a loaded machine: give it
    // longer than the default 30 s (bounded all the same).
    let limits = ServeLimits { drain_timeout: Duration::from_secs(240), ..ServeLimits::default() };
    let mut serving = Serving::start_edge(s3.connector(Policy::allow_all()), world, limits).await;
    let auth = format!("Bearer {TOKEN}");
    let before = peak_rss();

    // Upload: a streamed body of unknown length (multipart in the component).
    let chunks = futures_stream((0..size / CHUNK).map(|i| {
        let bytes: Vec<u8> = (i * CHUNK..(i + 1) * CHUNK).map(pattern_byte).collect();
        Ok::<_, std::io::Error>(Frame::data(Bytes::from(bytes)))
    }));
    let response = send(serving.address, "PUT", "/big/object.bin", &[("authorization", &auth)], chunks).await;
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(std::fs::metadata(s3.object_path("big", "object.bin")).unwrap().len(), size);

    // Download, and stop the server while the body is still streaming: the request finishes.
    let response =
        send(serving.address, "GET", "/big/object.bin", &[("authorization", &auth)], bytes("")).await;
    assert_eq!(response.status(), 200);
    serving.request_stop();
    let mut body = response.into_body();
    let mut position = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.unwrap();
        if let Some(data) = frame.data_ref() {
            for (i, byte) in data.iter().enumerate() {
                assert_eq!(*byte, pattern_byte(position + i as u64), "byte {}", position + i as u64);
            }
            position += data.len() as u64;
        }
    }
    assert_eq!(position, size);
    let address = serving.address;
    let left = tokio::time::timeout(Duration::from_secs(300), serving.stop()).await.unwrap();
    assert_eq!(left, 0, "the drain finished every request in flight");
    assert!(tokio::net::TcpStream::connect(address).await.is_err(), "no new connections after shutdown");

    let growth = peak_rss().saturating_sub(before);
    eprintln!("peak RSS growth for {mib} MiB up and down ({world:?}): {} MiB", growth >> 20);
    assert!(growth < 160 * 1024 * 1024, "peak memory grew by {} MiB for a {mib} MiB object", growth >> 20);
}

/// A request body from an iterator of frames, produced as the connection asks for them.
fn futures_stream(
    frames: impl Iterator<Item = Result<Frame<Bytes>, std::io::Error>> + Send + Sync + Unpin + 'static,
) -> Body {
    IterStream(frames).boxed()
}

/// An iterator of frames as an HTTP body.
struct IterStream<I>(I);

impl<I: Iterator + Unpin> hyper::body::Body for IterStream<I>
where
    I::Item: Into<Result<Frame<Bytes>, std::io::Error>>,
{
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        std::task::Poll::Ready(self.0.next().map(Into::into))
    }
}
