//! A recording HTTP server on 127.0.0.1:0 for wire-format checks where s3s-fs lacks a feature:
//! it keeps every request's method, URI, headers and body, and answers with a canned status,
//! headers and body.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub uri: String,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Recorded {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The header names listed as signed in `Authorization`.
    pub fn signed_headers(&self) -> Vec<String> {
        let authorization = self.header("authorization").unwrap_or("");
        authorization
            .split("SignedHeaders=")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .map(|list| list.split(';').map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

/// The canned answer.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

/// A running recording server.
pub struct RecordingServer {
    pub endpoint: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    answer: Arc<Mutex<Answer>>,
    /// One-off answers for the next requests, in order, before the canned one.
    next: Arc<Mutex<VecDeque<Answer>>>,
    delay: Arc<Mutex<Duration>>,
    /// Requests received and not answered yet, and the most there ever were.
    in_flight: Arc<(AtomicUsize, AtomicUsize)>,
}

impl RecordingServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(Mutex::new(Answer {
            status: 200,
            headers: vec![("etag", "\"recorded\"".to_owned())],
            body: String::new(),
        }));
        let delay = Arc::new(Mutex::new(Duration::ZERO));
        let in_flight = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
        let next = Arc::new(Mutex::new(VecDeque::new()));
        let (log, canned, pause, counts) =
            (requests.clone(), answer.clone(), delay.clone(), in_flight.clone());
        let queued = next.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { continue };
                let (log, canned, pause, counts) =
                    (log.clone(), canned.clone(), pause.clone(), counts.clone());
                let queued = queued.clone();
                let service = service_fn(move |request: http::Request<Incoming>| {
                    let (log, canned, pause, counts) =
                        (log.clone(), canned.clone(), pause.clone(), counts.clone());
                    let queued = queued.clone();
                    async move {
                        let now = counts.0.fetch_add(1, Ordering::SeqCst) + 1;
                        counts.1.fetch_max(now, Ordering::SeqCst);
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
                        log.lock().unwrap().push(Recorded {
                            method: parts.method.to_string(),
                            uri: parts.uri.to_string(),
                            headers: parts.headers,
                            body,
                        });
                        let wait = *pause.lock().unwrap();
                        tokio::time::sleep(wait).await;
                        counts.0.fetch_sub(1, Ordering::SeqCst);
                        let one_off = queued.lock().unwrap().pop_front();
                        let answer = one_off.unwrap_or_else(|| canned.lock().unwrap().clone());
                        let mut response = http::Response::builder().status(answer.status);
                        for (name, value) in &answer.headers {
                            response = response.header(*name, value);
                        }
                        Ok::<_, Infallible>(response.body(Full::new(Bytes::from(answer.body))).unwrap())
                    }
                });
                tokio::spawn(async move {
                    let _ = Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        Self { endpoint, requests, answer, next, delay, in_flight }
    }

    /// Answers the next requests with these, in order, then the canned answer again.
    pub fn answer_next(&self, answers: impl IntoIterator<Item = Answer>) {
        self.next.lock().unwrap().extend(answers);
    }

    /// Makes every answer wait this long after its request arrived completely.
    pub fn delay(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    /// The most requests that were in the server at once (arrived, not answered yet).
    pub fn max_in_flight(&self) -> usize {
        self.in_flight.1.load(Ordering::SeqCst)
    }

    /// Changes the canned answer.
    pub fn answer(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}
