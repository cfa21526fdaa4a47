//! A proxy on 127.0.0.1:0 in front of s3s-fs that behaves like a bucket with Object Lock on:
//! S3 refuses a PutObject or UploadPart that carries neither `Content-MD5` nor an
//! `x-amz-checksum-*` (header or trailer), and it checks each part's checksum, which s3s-fs
//! does not (s3s-fs checks single PUTs' checksums, header or trailer, but ignores those of
//! parts and of CompleteMultipartUpload, and keeps no checksum of a multipart object). Every
//! request is recorded with its headers, and the next upload's body can have one byte flipped
//! on the way, as a bad network card or a proxy might: a checksum is what catches that on
//! bodies over 64 KiB, which the plugin signs `UNSIGNED-PAYLOAD`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::net::{TcpListener, TcpStream};

use super::recording_server::Recorded;

/// S3's answer to a write without a checksum on an Object Lock bucket.
pub const REFUSAL: &str = "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters";

/// A running proxy; dropping it stops accepting connections.
pub struct ObjectLockProxy {
    pub endpoint: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    flip_next_upload: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ObjectLockProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Shared {
    upstream: String,
    object_lock: bool,
    requests: Arc<Mutex<Vec<Recorded>>>,
    flip_next_upload: Arc<AtomicBool>,
}

impl ObjectLockProxy {
    /// Starts a proxy in front of `upstream` (`http://127.0.0.1:PORT`); with `object_lock`
    /// false it still checks parts' checksums and flips bytes, but takes writes without one.
    pub async fn start(upstream: &str, object_lock: bool) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let flip_next_upload = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            upstream: upstream.strip_prefix("http://").unwrap().to_owned(),
            object_lock,
            requests: requests.clone(),
            flip_next_upload: flip_next_upload.clone(),
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { continue };
                let shared = shared.clone();
                let service = service_fn(move |request: http::Request<Incoming>| {
                    let shared = shared.clone();
                    async move { handle(request, &shared).await }
                });
                tokio::spawn(async move {
                    let _ = Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        Self { endpoint, requests, flip_next_upload, task }
    }

    /// Flips one byte in the middle of the next PutObject or UploadPart body.
    pub fn flip_a_byte_of_the_next_upload(&self) {
        self.flip_next_upload.store(true, Ordering::SeqCst);
    }

    /// Every request so far (bodies as the proxy received them).
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// Forgets the requests so far.
    pub fn clear(&self) {
        self.requests.lock().unwrap().clear();
    }
}

/// What kind of request this is, as far as Object Lock cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    PutObject,
    UploadPart,
    Complete,
    Other,
}

/// The kind of a recorded request, from its method and URI (path-style).
pub fn kind(method: &str, uri: &str) -> Kind {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let has = |name: &str| query.split('&').any(|pair| pair.split('=').next() == Some(name));
    let object = path.trim_start_matches('/').contains('/');
    match method {
        "PUT" if object && has("partNumber") => Kind::UploadPart,
        "PUT" if object && query.is_empty() => Kind::PutObject,
        "POST" if object && has("uploadId") => Kind::Complete,
        _ => Kind::Other,
    }
}

/// The checksum a request carries: `(header name, value)` from a header, or the trailer's name
/// with no value (it comes after the body).
pub fn carried_checksum(request: &Recorded) -> Option<(String, Option<String>)> {
    if let Some(trailer) = request.header("x-amz-trailer").filter(|t| t.starts_with("x-amz-checksum-")) {
        return Some((trailer.to_owned(), None));
    }
    request.headers.iter().find_map(|(name, value)| {
        let name = name.as_str();
        (name.starts_with("x-amz-checksum-")
            && name != "x-amz-checksum-type"
            && name != "x-amz-checksum-algorithm")
            .then(|| (name.to_owned(), value.to_str().ok().map(str::to_owned)))
    })
}

type Answer = http::Response<Full<Bytes>>;

async fn handle(request: http::Request<Incoming>, shared: &Shared) -> Result<Answer, std::io::Error> {
    let (parts, body) = request.into_parts();
    let mut body = body.collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
    let recorded = Recorded {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        headers: parts.headers.clone(),
        body: body.clone(),
    };
    shared.requests.lock().unwrap().push(recorded.clone());
    // A copy carries no body to check: S3 takes CopyObject without a checksum.
    let copy = recorded.header("x-amz-copy-source").is_some();
    let kind = if copy { Kind::Other } else { kind(&recorded.method, &recorded.uri) };
    if matches!(kind, Kind::PutObject | Kind::UploadPart) {
        let checksum = carried_checksum(&recorded);
        if shared.object_lock && checksum.is_none() && recorded.header("content-md5").is_none() {
            return Ok(error(400, "InvalidRequest", REFUSAL));
        }
        if shared.flip_next_upload.swap(false, Ordering::SeqCst) && !body.is_empty() {
            let middle = body.len() / 2;
            body[middle] ^= 0x01;
        }
        // S3 checks a part's checksum header against its bytes; s3s-fs does not.
        if kind == Kind::UploadPart
            && let Some((name, Some(value))) = checksum
            && crc_of(&name, &body).is_some_and(|actual| actual != value)
        {
            return Ok(error(
                400,
                "BadDigest",
                &format!("The {name} you specified did not match the calculated checksum."),
            ));
        }
    }
    forward(parts, Bytes::from(body), &shared.upstream).await
}

/// The checksum named by `header` of `bytes`, for the CRCs this test uses.
pub fn crc_of(header: &str, bytes: &[u8]) -> Option<String> {
    let algorithm = match header {
        "x-amz-checksum-crc32" => crc_fast::CrcAlgorithm::Crc32IsoHdlc,
        "x-amz-checksum-crc32c" => crc_fast::CrcAlgorithm::Crc32Iscsi,
        "x-amz-checksum-crc64nvme" => crc_fast::CrcAlgorithm::Crc64Nvme,
        _ => return None,
    };
    let value = crc_fast::checksum(algorithm, bytes);
    let digest = match algorithm {
        crc_fast::CrcAlgorithm::Crc64Nvme => value.to_be_bytes().to_vec(),
        _ => (value as u32).to_be_bytes().to_vec(),
    };
    Some(base64::engine::general_purpose::STANDARD.encode(digest))
}

fn error(status: u16, code: &str, message: &str) -> Answer {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>LOCK</RequestId></Error>"
    );
    http::Response::builder()
        .status(status)
        .header("content-type", "application/xml")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

async fn forward(parts: http::request::Parts, body: Bytes, upstream: &str) -> Result<Answer, std::io::Error> {
    let stream = TcpStream::connect(upstream).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(std::io::Error::other)?;
    tokio::spawn(connection);
    let response = sender
        .send_request(http::Request::from_parts(parts, Full::new(body)))
        .await
        .map_err(std::io::Error::other)?;
    let (mut parts, body) = response.into_parts();
    let body = body.collect().await.map_err(std::io::Error::other)?.to_bytes();
    parts.headers.remove(http::header::TRANSFER_ENCODING);
    Ok(http::Response::from_parts(parts, Full::new(body)))
}
