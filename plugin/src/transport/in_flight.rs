//! A request with a body in guest memory, in flight without blocking: handed to the host, its
//! body written as far as the connection takes it, its response collected when ready. Several
//! of them progress together by polling their pollables (see [`crate::transfers::parallel_parts`]).

use crate::bindings::s3_connector::s3::types::S3Error;
use crate::bindings::wasi::http::outgoing_handler;
use crate::bindings::wasi::http::types::{FutureIncomingResponse, OutgoingBody};
use crate::bindings::wasi::io::poll::Pollable;
use crate::bindings::wasi::io::streams::OutputStream;
use crate::protocol::endpoint::Target;
use crate::transport::wire::{self, Failure, Response};

/// One request in flight.
pub struct InFlight {
    // Field order is drop order: the sink is a child of the body.
    sink: Option<OutputStream>,
    body: Option<OutgoingBody>,
    future: FutureIncomingResponse,
    written: usize,
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
        Ok(Self { sink, body, future, written: 0, url })
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

    /// Writes as much of `bytes` as the connection takes now, without waiting; once all is
    /// written, finishes the body. `bytes` must be the same on every call.
    pub fn pump(&mut self, bytes: &[u8]) -> Result<(), S3Error> {
        let result = self.write_some(bytes);
        if result.is_err() {
            // Abandon the body (unfinished, so the request fails rather than sending a
            // truncated part); what is left to wait on is the response.
            self.sink = None;
            self.body = None;
        }
        result
    }

    fn write_some(&mut self, bytes: &[u8]) -> Result<(), S3Error> {
        let failed = |e| {
            S3Error::Transport(format!(
                "sending the request body failed: {}",
                crate::transport::stream_copy::describe(e)
            ))
        };
        if let Some(sink) = &self.sink {
            // Bounded: each pass writes at least one byte or returns.
            while self.written < bytes.len() {
                let permit = sink.check_write().map_err(failed)?;
                if permit == 0 {
                    return Ok(());
                }
                let n = usize::try_from(permit).unwrap_or(usize::MAX).min(bytes.len() - self.written);
                sink.write(&bytes[self.written..self.written + n]).map_err(failed)?;
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
    pub fn settle_quietly(mut self, bytes: &[u8]) {
        // Bounded: each pass writes bytes, or waits until the sink or the response is ready;
        // an error abandons the body, leaving only the response to wait for.
        while self.response().is_none() {
            let _ = self.pump(bytes);
            if self.response().is_some() {
                break;
            }
            self.pollable().block();
        }
    }

    /// What to wait on: the body's sink while bytes remain, else the response.
    pub fn pollable(&self) -> Pollable {
        match &self.sink {
            Some(sink) => sink.subscribe(),
            None => self.future.subscribe(),
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
