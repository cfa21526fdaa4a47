//! The `edge` and `edge-spin` worlds' `wasi:http/incoming-handler@0.2.12`: the WASI 0.2 side
//! of the handler boundary. It reads the request for [`answer`] and writes the answer back,
//! splicing an object's body from S3's response into the outgoing body on the host's side.

use super::answer::{self, Answer, AnswerBody, EdgeRequest};
use crate::bindings::exports::wasi::http0_2_12::incoming_handler::Guest;
use crate::bindings::wasi::http0_2_12::types::{
    Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use crate::bindings::wasi::io::streams::InputStream;
use crate::transport::stream_copy::{self, ByteSource, ChunkEnd};

/// The component's incoming handler.
pub struct Edge;

impl Guest for Edge {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        send(out, answer::answer(Incoming(request)));
    }
}

/// The request as the routes read it.
struct Incoming(IncomingRequest);

/// A request body: its stream, and the body resource that must outlive it.
struct IncomingStream {
    // Field order is drop order: the stream is a child of the body and must go first.
    stream: InputStream,
    _body: IncomingBody,
}

impl ByteSource for IncomingStream {
    fn read_chunk(&self, limit: usize) -> (Vec<u8>, ChunkEnd) {
        stream_copy::read_chunk(&self.stream, limit)
    }

    fn wasi_stream(&self) -> Option<&InputStream> {
        Some(&self.stream)
    }
}

impl EdgeRequest for Incoming {
    type Body = IncomingStream;

    fn method(&self) -> String {
        method_name!(Method, self.0.method())
    }

    fn path_with_query(&self) -> String {
        self.0.path_with_query().unwrap_or_else(|| "/".to_owned())
    }

    fn header(&self, name: &str) -> Option<String> {
        let values = self.0.headers().get(name);
        values.first().and_then(|v| String::from_utf8(v.clone()).ok())
    }

    fn take_body(&mut self) -> Option<IncomingStream> {
        let body = self.0.consume().ok()?;
        let stream = body.stream().ok()?;
        Some(IncomingStream { stream, _body: body })
    }
}

/// Sends the answer's head, then its body.
fn send(out: ResponseOutparam, answer: Answer) {
    // Invariant-free: headers that the host refuses are dropped, not fatal.
    let fields = Fields::new();
    for (name, value) in &answer.headers {
        let _ = fields.append(name, value);
    }
    let response = OutgoingResponse::new(fields);
    let _ = response.set_status_code(answer.status);
    let Ok(body) = response.body() else { return };
    ResponseOutparam::set(out, Ok(response));
    // A broken stream cannot change the status any more: the body ends unfinished, which the
    // client sees as a truncated response.
    let written = match answer.body {
        AnswerBody::Empty => Ok(()),
        AnswerBody::Bytes(bytes) => {
            body.write().map_err(drop).and_then(|sink| stream_copy::write_all(&sink, &bytes).map_err(drop))
        }
        AnswerBody::Object(response) => {
            body.write().map_err(drop).and_then(|sink| response.copy_to(&sink).map(drop).map_err(drop))
        }
    };
    if written.is_ok() {
        let _ = OutgoingBody::finish(body, None);
    }
}
