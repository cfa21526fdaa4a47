//! A fault-injection proxy on 127.0.0.1:0 in front of the S3 server: it forwards each request
//! unchanged (the `Host` header too, so signatures still verify), unless a fault was injected
//! for it. Faults apply to the next requests in order, one each; every request is recorded.
//! Besides errors, resets and delays, a fault can cut an answer off mid-body (`Truncate`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to one request instead of (or besides) forwarding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answers `status` with an S3 `<Error>` of `code`; nothing is forwarded.
    Error {
        /// The HTTP status.
        status: u16,
        /// The S3 error code.
        code: &'static str,
    },
    /// Closes the connection without an answer; nothing is forwarded.
    Reset,
    /// Waits, then forwards.
    Delay(Duration),
    /// Answers 403 `RequestTimeTooSkewed` with a `Date` this many seconds from now.
    Skewed {
        /// Seconds added to the proxy's clock.
        shift_seconds: i64,
    },
    /// Answers 200 with an `<Error>` body of `code`, as CopyObject and CompleteMultipartUpload
    /// can; nothing is forwarded.
    ErrorIn200 {
        /// The S3 error code.
        code: &'static str,
    },
    /// Forwards, then sends the answer's head (its `Content-Length` whole) and only this many
    /// bytes of its body before breaking the connection: a download cut off mid-way.
    Truncate(usize),
}

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The method.
    pub method: String,
    /// The path and query.
    pub uri: String,
    /// The `x-amz-date` it was signed at.
    pub amz_date: Option<String>,
    /// The body's length.
    pub body_length: usize,
    /// The `Range` header, if any.
    pub range: Option<String>,
    /// The W3C `traceparent` header, if any.
    pub traceparent: Option<String>,
    /// The fault applied, if any.
    pub fault: Option<Fault>,
}

/// A running proxy. Dropping it stops accepting connections.
pub struct FaultProxy {
    endpoint: String,
    faults: Arc<Mutex<VecDeque<Fault>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` (`http://127.0.0.1:PORT`).
    pub async fn start(upstream: &str) -> Self {
        let upstream = upstream.strip_prefix("http://").expect("an http:// upstream").to_owned();
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("a free port on 127.0.0.1");
        let endpoint = format!("http://{}", listener.local_addr().expect("a bound address"));
        let faults = Arc::new(Mutex::new(VecDeque::new()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (queue, log) = (faults.clone(), seen.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { continue };
                let (queue, log, upstream) = (queue.clone(), log.clone(), upstream.clone());
                let service = service_fn(move |request: http::Request<Incoming>| {
                    let (queue, log, upstream) = (queue.clone(), log.clone(), upstream.clone());
                    async move { handle(request, &queue, &log, &upstream).await }
                });
                tokio::spawn(async move {
                    let _ = Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        Self { endpoint, faults, seen, task }
    }

    /// The proxy's endpoint URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Queues faults for the next requests, one each, in order.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.faults.lock().expect("the fault queue").extend(faults);
    }

    /// Faults not applied yet.
    pub fn pending(&self) -> usize {
        self.faults.lock().expect("the fault queue").len()
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("the request log").clone()
    }
}

type Answer = http::Response<BoxBody<Bytes, std::io::Error>>;

/// A whole body.
fn whole(bytes: Bytes) -> BoxBody<Bytes, std::io::Error> {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

async fn handle(
    request: http::Request<Incoming>,
    queue: &Mutex<VecDeque<Fault>>,
    log: &Mutex<Vec<Seen>>,
    upstream: &str,
) -> Result<Answer, std::io::Error> {
    let fault = queue.lock().expect("the fault queue").pop_front();
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    log.lock().expect("the request log").push(Seen {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        amz_date: parts.headers.get("x-amz-date").and_then(|v| v.to_str().ok()).map(str::to_owned),
        body_length: body.len(),
        range: parts.headers.get(http::header::RANGE).and_then(|v| v.to_str().ok()).map(str::to_owned),
        traceparent: parts.headers.get("traceparent").and_then(|v| v.to_str().ok()).map(str::to_owned),
        fault: fault.clone(),
    });
    match fault {
        None => forward(parts, body, upstream).await,
        Some(Fault::Truncate(keep)) => {
            let answer = forward(parts, body, upstream).await?;
            let (parts, body) = answer.into_parts();
            let bytes = body.collect().await?.to_bytes();
            let length = bytes.len();
            let kept = bytes.slice(..keep.min(length));
            // The head announces every byte; the body breaks after `keep` of them.
            let frames = futures_frames(kept);
            let mut answer = http::Response::from_parts(parts, frames);
            answer.headers_mut().insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(length));
            Ok(answer)
        }
        Some(Fault::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            forward(parts, body, upstream).await
        }
        // An error from the service makes hyper drop the connection without an answer.
        Some(Fault::Reset) => Err(std::io::Error::other("injected connection reset")),
        Some(Fault::Error { status, code }) => Ok(error_answer(status, code, None)),
        Some(Fault::ErrorIn200 { code }) => Ok(error_answer(200, code, None)),
        Some(Fault::Skewed { shift_seconds }) => {
            let now = SystemTime::now();
            let shift = Duration::from_secs(shift_seconds.unsigned_abs());
            let date = if shift_seconds >= 0 { now + shift } else { now - shift };
            Ok(error_answer(403, "RequestTimeTooSkewed", Some(http_date(date))))
        }
    }
}

fn error_answer(status: u16, code: &str, date: Option<String>) -> Answer {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>injected by the test \
         proxy</Message><RequestId>PROXY</RequestId></Error>"
    );
    let mut answer = http::Response::builder().status(status).header("content-type", "application/xml");
    if let Some(date) = date {
        answer = answer.header("date", date);
    }
    answer.body(whole(Bytes::from(body))).unwrap_or_else(|_| http::Response::new(whole(Bytes::new())))
}

/// A body of `kept` that then fails, so that hyper breaks the connection mid-body.
fn futures_frames(kept: Bytes) -> BoxBody<Bytes, std::io::Error> {
    Truncated(Some(kept)).boxed()
}

/// Gives its bytes, then an error.
struct Truncated(Option<Bytes>);

impl hyper::body::Body for Truncated {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
        std::task::Poll::Ready(Some(match self.0.take() {
            Some(kept) => Ok(hyper::body::Frame::data(kept)),
            None => Err(std::io::Error::other("injected truncation")),
        }))
    }
}

async fn forward(parts: http::request::Parts, body: Bytes, upstream: &str) -> Result<Answer, std::io::Error> {
    let stream = TcpStream::connect(upstream).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(std::io::Error::other)?;
    tokio::spawn(connection);
    let request = http::Request::from_parts(parts, Full::new(body));
    let response = sender.send_request(request).await.map_err(std::io::Error::other)?;
    let (mut parts, body) = response.into_parts();
    let body = body.collect().await.map_err(std::io::Error::other)?.to_bytes();
    // The body is sent whole; hyper sets its length.
    parts.headers.remove(http::header::TRANSFER_ENCODING);
    Ok(http::Response::from_parts(parts, whole(body)))
}

/// `Sat, 28 Nov 2026 22:33:23 GMT`.
fn http_date(time: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let seconds = time.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = s3_connector_rules::civil_date::civil_from_days(days as i64);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn http_dates_are_imf_fixdates() {
        let at = |secs| super::http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
        assert_eq!(at(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(at(1_709_251_199), "Thu, 29 Feb 2024 23:59:59 GMT");
    }
}
