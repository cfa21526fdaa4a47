//! The `edge-p3` and `edge-p3-spin` worlds' `wasi:http/handler@0.3.0`: the WASI 0.3 side of the
//! handler boundary, beside the WASI 0.2 one in [`super::handler`]. The routes and S3 calls are
//! [`answer`]'s, the same for both; only reading the request and writing the answer differ.
//!
//! `handle` is an async export whose bodies are `stream<u8>`s. The request body is read a chunk
//! at a time as the uploads ask for it (blocking on the stream, since the upload path is the
//! shared synchronous one). The response is returned to the host before its body is written:
//! the host reads the body only once it has the response, so the body is written by a task
//! spawned on the export's event loop, which runs on after `handle` has returned.

use std::cell::RefCell;

use wit_bindgen::{FutureReader, FutureWriter, StreamReader, StreamResult, StreamWriter};

use super::answer::{self, Answer, AnswerBody, EdgeRequest};
use crate::bindings::exports::wasi::http0_3_0::handler::Guest;
use crate::bindings::wasi::http0_3_0::types::{ErrorCode, Fields, Method, Request, Response, Trailers};
use crate::bindings::{wit_future, wit_stream};
use crate::transport::stream_copy::{ByteSource, ChunkEnd};
use crate::transport::wire;

/// The most read from a body stream in one read: the request body into an upload's buffer, an
/// object's body from S3 into the response stream.
const CHUNK: usize = 256 * 1024;

/// What the response's trailers future carries: no trailers, or the error that ended the body.
type TrailersResult = Result<Option<Trailers>, ErrorCode>;

/// The component's handler.
pub struct EdgeP3;

impl Guest for EdgeP3 {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        Ok(respond(answer::answer(Incoming::new(request))))
    }
}

/// The request as the routes read it. Its line and headers are read at once, since taking the
/// body consumes the request resource.
struct Incoming {
    method: String,
    path_with_query: String,
    headers: Vec<(String, Vec<u8>)>,
    request: Option<Request>,
}

impl Incoming {
    fn new(request: Request) -> Self {
        let method = method_name!(Method, request.get_method());
        let path_with_query = request.get_path_with_query().unwrap_or_else(|| "/".to_owned());
        let headers = request.get_headers().copy_all();
        Self { method, path_with_query, headers, request: Some(request) }
    }
}

impl EdgeRequest for Incoming {
    type Body = IncomingStream;

    fn method(&self) -> String {
        self.method.clone()
    }

    fn path_with_query(&self) -> String {
        self.path_with_query.clone()
    }

    fn header(&self, name: &str) -> Option<String> {
        let (_, value) = self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))?;
        String::from_utf8(value.clone()).ok()
    }

    fn take_body(&mut self) -> Option<IncomingStream> {
        let request = self.request.take()?;
        // The future tells the host how reading the body went; dropped unwritten (when the
        // body has been read, or given up) it says "fine", its default.
        let (done, done_reader) = wit_future::new(|| Ok(()));
        let (stream, trailers) = Request::consume_body(request, done_reader);
        Some(IncomingStream {
            stream: RefCell::new(Some(stream)),
            trailers: RefCell::new(Some(trailers)),
            _done: done,
        })
    }
}

/// A request body as a [`ByteSource`]: its stream, and the trailers future that says whether it
/// ended whole.
struct IncomingStream {
    /// `None` once the stream has ended.
    stream: RefCell<Option<StreamReader<u8>>>,
    /// `None` once read: a body that ends is checked against it once.
    trailers: RefCell<Option<FutureReader<TrailersResult>>>,
    _done: FutureWriter<Result<(), ErrorCode>>,
}

impl IncomingStream {
    /// How the body ended: whole, or with the error the host put in its trailers future (a
    /// client that went away mid-body), so that a cut body is never stored as an object.
    fn end(&self) -> ChunkEnd {
        let Some(trailers) = self.trailers.borrow_mut().take() else { return ChunkEnd::Ended };
        match wit_bindgen::block_on(trailers.into_future()) {
            Ok(_) => ChunkEnd::Ended,
            Err(e) => ChunkEnd::Failed(format!("the request body broke off: {e:?}")),
        }
    }
}

impl ByteSource for IncomingStream {
    fn read_chunk(&self, limit: usize) -> (Vec<u8>, ChunkEnd) {
        let mut buffer = Vec::new();
        while buffer.len() < limit {
            let Some(mut stream) = self.stream.borrow_mut().take() else {
                return (buffer, self.end());
            };
            let want = (limit - buffer.len()).min(CHUNK);
            // `block_on` needs a future that owns what it uses: the stream goes in and comes back.
            let (stream, result, chunk) = wit_bindgen::block_on(async move {
                let (result, chunk) = stream.read(Vec::with_capacity(want)).await;
                (stream, result, chunk)
            });
            buffer.extend_from_slice(&chunk);
            match result {
                StreamResult::Complete(_) | StreamResult::Cancelled => {
                    *self.stream.borrow_mut() = Some(stream)
                }
                StreamResult::Dropped => return (buffer, self.end()),
            }
        }
        (buffer, ChunkEnd::Full)
    }
}

/// The answer as a response; its body, if any, is written by a spawned task.
fn respond(answer: Answer) -> Response {
    // Invariant-free: headers that the host refuses are dropped, not fatal.
    let fields = Fields::new();
    for (name, value) in &answer.headers {
        let _ = fields.append(name, value);
    }
    let (trailers, trailers_reader) = wit_future::new::<TrailersResult>(|| Ok(None));
    let contents = match answer.body {
        AnswerBody::Empty => {
            drop(trailers);
            None
        }
        AnswerBody::Bytes(bytes) => {
            let (mut writer, reader) = wit_stream::new::<u8>();
            wit_bindgen::spawn_local(async move {
                writer.write_all(bytes).await;
                drop(writer);
                drop(trailers);
            });
            Some(reader)
        }
        AnswerBody::Object(object) => {
            let (writer, reader) = wit_stream::new::<u8>();
            wit_bindgen::spawn_local(copy_object(object, writer, trailers));
            Some(reader)
        }
    };
    let (response, _sent) = Response::new(fields, contents, trailers_reader);
    let _ = response.set_status_code(answer.status);
    response
}

/// Copies an object's body from S3's response into the response stream. A body that breaks
/// off, or ends short of its `content-length`, ends the response with an error in its trailers
/// future, so that the client sees a failed response rather than a short object.
async fn copy_object(
    object: wire::Response,
    mut writer: StreamWriter<u8>,
    trailers: FutureWriter<TrailersResult>,
) {
    let expected = object.header("content-length").and_then(|v| v.parse::<u64>().ok());
    let mut sent = 0u64;
    // Bounded: each pass moves at least one byte or ends the loop.
    let failure = loop {
        let (chunk, end) = object.read_chunk(CHUNK);
        let length = chunk.len() as u64;
        if !chunk.is_empty() && !writer.write_all(chunk).await.is_empty() {
            // The client went away: nobody is left to tell.
            return;
        }
        sent += length;
        match end {
            ChunkEnd::Full if length > 0 => {}
            ChunkEnd::Full | ChunkEnd::Ended => match expected {
                Some(expected) if expected != sent => {
                    break Some(format!("the object's body ended after {sent} of {expected} bytes"));
                }
                _ => break None,
            },
            ChunkEnd::Failed(e) => {
                break Some(format!("the object's body broke off after {sent} bytes: {e}"));
            }
        }
    };
    drop(writer);
    if let Some(message) = failure {
        let _ = trailers.write(Err(ErrorCode::InternalError(Some(message)))).await;
    }
}
