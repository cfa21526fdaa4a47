//! A request in flight without blocking: handed to the host, its body (bytes in guest memory, or
//! a host stream passed on a piece at a time) written as far as the connection takes it, its
//! response collected when ready. Several of them progress together by polling their pollables (see
//! [`crate::transfers::parallel_parts`]).

use crate::bindings::s3_connector::s3::types::S3Error;
use crate::bindings::wasi::http0_2_12::outgoing_handler;
use crate::bindings::wasi::http0_2_12::types::{FutureIncomingResponse, OutgoingBody};
use crate::bindings::wasi::io::poll::Pollable;
use crate::bindings::wasi::io::streams::{InputStream, OutputStream};
use crate::protocol::endpoint::Target;
use crate::transport::wire::{self, Failure, Response};

/// What a request in flight sends, given on every [`InFlight::pump`]: bytes the caller keeps,
/// or the next `length` bytes of the stream the request was started with.
#[derive(Clone, Copy)]
pub enum Outgoing<'b> {
    /// Bytes in guest memory, the same on every call.
    Bytes(&'b [u8]),
    /// The stream given to [`InFlight::start_streaming`], `length` bytes of it.
    Streamed {
        /// How many bytes the body has.
        length: u64,
    },
}

/// One request in flight.
pub struct InFlight {
    // Field order is drop order: the sink is a child of the body.
    sink: Option<OutputStream>,
    body: Option<OutgoingBody>,
    future: FutureIncomingResponse,
    /// The host stream a streamed body comes from.
    source: Option<InputStream>,
    /// Whether the last read found the source with nothing to give: then the source, not the
    /// sink, is what to wait on.
    starved: bool,
    written: u64,
    url: String,
}

impl InFlight {
    /// Hands a signed request to the host: with a body to [`InFlight::pump`] into (nothing is
    /// written yet), or without one (GET).
    pub fn start(request: &http::Request<()>, target: &Target, with_body: bool) -> Result<Self, Failure> {
        let outgoing = wire::outgoing_request(request, target)?;
        let url = target.url();
        let (body, sink) = if with_body {
            let taken = || S3Error::Other("the request body was already taken".to_owned());
            // Invariant: `body` and `write` are called once, on a request that was just created.
            let body = outgoing.body().map_err(|()| taken())?;
            let sink = body.write().map_err(|()| taken())?;
            (Some(body), Some(sink))
        } else {
            (None, None)
        };
        let future =
            outgoing_handler::handle(outgoing, None).map_err(|code| wire::transport_error(code, &url))?;
        Ok(Self { sink, body, future, source: None, starved: false, written: 0, url })
    }

    /// Hands a signed request to the host with a body read from `source` as the connection
    /// takes it: at most what it takes at once passes through guest memory, never the whole
    /// body. (Read and written rather than spliced: jco's preview2-shim 0.26 fails a
    /// non-blocking splice from a stream of another kind, such as a file's.)
    pub fn start_streaming(
        request: &http::Request<()>,
        target: &Target,
        source: InputStream,
    ) -> Result<Self, Failure> {
        let mut started = Self::start(request, target, true)?;
        started.source = Some(source);
        Ok(started)
    }

    /// Waits for the response.
    pub fn wait(&self) -> Result<Response, Failure> {
        // Bounded: `block` returns once the response is ready, so the second pass returns.
        loop {
            if let Some(result) = self.response() {
                return result;
            }
            self.future.subscribe().block();
        }
    }

    /// Writes as much of the body as the connection takes now, without waiting; once all is
    /// written, finishes the body. `body` must be the same on every call.
    pub fn pump(&mut self, body: Outgoing<'_>) -> Result<(), S3Error> {
        let result = self.write_some(body);
        if result.is_err() {
            // Abandon the body (unfinished, so the request fails rather than sending a
            // truncated part); what is left to wait on is the response.
            self.sink = None;
            self.body = None;
        }
        result
    }

    fn write_some(&mut self, body: Outgoing<'_>) -> Result<(), S3Error> {
        let failed = |e| {
            S3Error::Transport(format!(
                "sending the request body failed: {}",
                crate::transport::stream_copy::describe(e)
            ))
        };
        self.starved = false;
        let length = match body {
            Outgoing::Bytes(bytes) => bytes.len() as u64,
            Outgoing::Streamed { length } => length,
        };
        if let Some(sink) = &self.sink {
            // Bounded: each pass writes at least one byte or returns.
            while self.written < length {
                let permit = sink.check_write().map_err(failed)?.min(length - self.written);
                if permit == 0 {
                    return Ok(());
                }
                let n = match (body, &self.source) {
                    (Outgoing::Bytes(bytes), _) => {
                        // Both within `bytes.len()`, a usize.
                        let (from, to) = (self.written as usize, (self.written + permit) as usize);
                        sink.write(&bytes[from..to]).map_err(failed)?;
                        permit
                    }
                    (Outgoing::Streamed { .. }, Some(source)) => {
                        let chunk = source.read(permit).map_err(failed)?;
                        sink.write(&chunk).map_err(failed)?;
                        chunk.len() as u64
                    }
                    (Outgoing::Streamed { .. }, None) => {
                        return Err(S3Error::Other(
                            "a streamed body was pumped without its stream".to_owned(),
                        ));
                    }
                };
                if n == 0 {
                    self.starved = true;
                    return Ok(());
                }
                self.written += n;
            }
        }
        if let (Some(sink), Some(body)) = (self.sink.take(), self.body.take()) {
            drop(sink);
            OutgoingBody::finish(body, None)
                .map_err(|code| S3Error::Transport(format!("finishing the request body failed: {code:?}")))?;
        }
        Ok(())
    }

    /// Sends the rest of `bytes` and waits for the response, whatever it is: a request is
    /// settled before the upload it belongs to is aborted, so that no part lands after it.
    pub fn settle_quietly(mut self, body: Outgoing<'_>) {
        // Bounded: each pass writes bytes, or waits until the sink, the source or the response
        // is ready; an error abandons the body, leaving only the response to wait for.
        while self.response().is_none() {
            let _ = self.pump(body);
            if self.response().is_some() {
                break;
            }
            self.pollable().block();
        }
    }

    /// What to wait on: the body's source when it had nothing to give, its sink while bytes
    /// remain, else the response.
    pub fn pollable(&self) -> Pollable {
        match (&self.sink, &self.source) {
            (Some(_), Some(source)) if self.starved => source.subscribe(),
            (Some(sink), _) => sink.subscribe(),
            (None, _) => self.future.subscribe(),
        }
    }

    /// The response, once it has arrived (a server may answer before the body is complete).
    pub fn response(&self) -> Option<Result<Response, Failure>> {
        match self.future.get()? {
            Ok(Ok(response)) => Some(wire::into_response(response)),
            Ok(Err(code)) => Some(Err(wire::transport_error(code, &self.url))),
            Err(()) => Some(Err(S3Error::Other("the response was already taken".to_owned()).into())),
        }
    }
}
