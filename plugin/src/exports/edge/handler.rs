//! The `edge` world's `wasi:http/incoming-handler`: one request in, S3 calls out, the answer
//! streamed back. Thin glue over [`super::route`], the S3 operations and the JSON actions.

use s3_connector_rules::{ErrorBody, ErrorCode};
use serde_json::{Value, json};

use super::route::{self, NoRoute, Route};
use crate::bindings::exports::wasi::http0_2_12::incoming_handler::Guest;
use crate::bindings::s3_connector::s3::types::{GetOptions, ObjectInfo, PutOptions, S3Error};
use crate::bindings::wasi::http0_2_12::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use crate::bindings::wasi::io::streams::InputStream;
use crate::exports::actions::{self, error::ActionError};
use crate::operations as op;
use crate::protocol::checked_names::Object;
use crate::protocol::option_defaults::{get_options, put_options};
use crate::transport::client::S3;
use crate::transport::stream_copy;
use crate::transport::wire::Body;

/// Request bodies up to this size are read into memory before they are sent, so that the
/// plugin's retries can replay them.
const REPLAYABLE_BODY: u64 = 1024 * 1024;
/// The largest `POST /actions` body read.
const MAX_ACTION_BYTES: usize = 1024 * 1024;
/// Inline content of actions is capped like in the plugin world's default.
const MAX_INLINE_BYTES: u64 = 8 * 1024 * 1024;

/// The component's incoming handler.
pub struct Edge;

impl Guest for Edge {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let method = match request.method() {
            Method::Get => "GET".to_owned(),
            Method::Head => "HEAD".to_owned(),
            Method::Put => "PUT".to_owned(),
            Method::Post => "POST".to_owned(),
            Method::Delete => "DELETE".to_owned(),
            Method::Connect => "CONNECT".to_owned(),
            Method::Options => "OPTIONS".to_owned(),
            Method::Trace => "TRACE".to_owned(),
            Method::Patch => "PATCH".to_owned(),
            Method::Other(name) => name,
        };
        let path = request.path_with_query().unwrap_or_else(|| "/".to_owned());
        match route::route(&method, &path) {
            Ok(route) => serve(route, request, out),
            Err(NoRoute { status, message }) => {
                respond_json(out, status, &ErrorBody::new(ErrorCode::InvalidRequest, &message).to_json());
            }
        }
    }
}

fn header(request: &IncomingRequest, name: &str) -> Option<String> {
    let values = request.headers().get(name);
    values.first().and_then(|v| String::from_utf8(v.clone()).ok())
}

fn serve(route: Route, request: IncomingRequest, out: ResponseOutparam) {
    let s3 = match S3::from_host() {
        Ok(s3) => s3,
        Err(e) => return respond_error(out, ActionError::S3(e), None, None),
    };
    match route {
        Route::GetObject { bucket, key } => {
            let range = match header(&request, "range").map(|r| route::byte_range(&r)).transpose() {
                Ok(range) => range,
                Err(message) => {
                    return respond_error(out, ActionError::InvalidField(message), Some(&bucket), Some(&key));
                }
            };
            let options = GetOptions { range, ..get_options() };
            match Object::checked(&bucket, &key)
                .and_then(|object| op::get_object_response(&s3, object, &options))
            {
                Err(e) => respond_error(out, ActionError::S3(e), Some(&bucket), Some(&key)),
                Ok((info, response)) => {
                    let status = if info.content_range.is_some() { 206 } else { 200 };
                    let length = response.header("content-length").map(str::to_owned);
                    let mut headers = object_headers(&info);
                    headers.extend(length.map(|l| ("content-length".to_owned(), l.into_bytes())));
                    let Some(body) = start(out, status, &headers) else { return };
                    let Ok(sink) = body.write() else { return };
                    // A broken stream cannot change the status any more: the body ends unfinished,
                    // which the client sees as a truncated response.
                    let copied = response.copy_to(&sink);
                    drop(sink);
                    if copied.is_ok() {
                        let _ = OutgoingBody::finish(body, None);
                    }
                }
            }
        }
        Route::HeadObject { bucket, key } => match Object::checked(&bucket, &key)
            .and_then(|object| op::head_object(&s3, object, &get_options()))
        {
            Err(e) => respond_error(out, ActionError::S3(e), Some(&bucket), Some(&key)),
            Ok(info) => {
                let mut headers = object_headers(&info);
                headers.push(("content-length".to_owned(), info.size.to_string().into_bytes()));
                if let Some(body) = start(out, 200, &headers) {
                    let _ = OutgoingBody::finish(body, None);
                }
            }
        },
        Route::PutObject { bucket, key } => {
            let length = header(&request, "content-length").and_then(|l| l.parse::<u64>().ok());
            let options = PutOptions { content_type: header(&request, "content-type"), ..put_options() };
            // Known lengths up to the multipart threshold go as one PutObject; longer bodies, and
            // bodies of unknown length, as a multipart upload (parts side by side, bounded memory).
            let result = read_body(&request, |stream| match (Object::checked(&bucket, &key)?, length) {
                // A small body is read first, so that a retry can send it again; a streamed one
                // cannot be replayed.
                (object, Some(length)) if length <= REPLAYABLE_BODY => {
                    let (body, _) = stream_copy::read_up_to(stream, length as usize)
                        .map_err(|e| S3Error::Other(format!("reading the request body failed: {e}")))?;
                    if body.len() as u64 != length {
                        return Err(S3Error::InvalidRequest(format!(
                            "the request body ended after {} of its {length} bytes; nothing was stored",
                            body.len()
                        )));
                    }
                    let body = if body.is_empty() { Body::Empty } else { Body::Bytes(&body) };
                    op::put_object(&s3, object, body, &options)
                }
                (object, _) => {
                    crate::transfers::multipart_upload::upload_stream(&s3, object, stream, length, &options)
                }
            })
            .unwrap_or_else(|| Err(S3Error::Other("the request body cannot be read".to_owned())));
            match result {
                Ok(put) => respond_json(out, 200, &json!({"bucket": bucket, "key": key, "etag": put.etag})),
                Err(e) => respond_error(out, ActionError::S3(e), Some(&bucket), Some(&key)),
            }
        }
        Route::DeleteObject { bucket, key } => {
            match Object::checked(&bucket, &key).and_then(|object| op::delete_object(&s3, object, None)) {
                Ok(()) => {
                    if let Some(body) = start(out, 204, &[]) {
                        let _ = OutgoingBody::finish(body, None);
                    }
                }
                Err(e) => respond_error(out, ActionError::S3(e), Some(&bucket), Some(&key)),
            }
        }
        Route::List { bucket, query } => {
            let mut action = json!({"action": "listObjects", "bucket": bucket});
            for (name, value) in query {
                let field = match name.as_str() {
                    "prefix" => "prefix",
                    "delimiter" => "delimiter",
                    "continuation-token" => "continuationToken",
                    "max-keys" => {
                        action["maxKeys"] =
                            value.parse::<u32>().map(Value::from).unwrap_or(Value::String(value));
                        continue;
                    }
                    _ => continue,
                };
                action[field] = Value::String(value);
            }
            answer_action(out, &action.to_string());
        }
        Route::Actions => {
            let text = read_body(&request, |stream| stream_copy::read_up_to(stream, MAX_ACTION_BYTES + 1));
            match text {
                Some(Ok((bytes, _))) if bytes.len() <= MAX_ACTION_BYTES => {
                    answer_action(out, &String::from_utf8_lossy(&bytes));
                }
                Some(Ok(_)) => respond_error(
                    out,
                    ActionError::ContentTooLarge(format!(
                        "the action is over {MAX_ACTION_BYTES} bytes; send large content as an object (PUT)"
                    )),
                    None,
                    None,
                ),
                _ => respond_error(
                    out,
                    ActionError::InvalidJson("the request body cannot be read".into()),
                    None,
                    None,
                ),
            }
        }
    }
}

/// Runs `read` on the request's body stream; `None` when the body cannot be taken.
fn read_body<T>(request: &IncomingRequest, read: impl FnOnce(&InputStream) -> T) -> Option<T> {
    let body = request.consume().ok()?;
    let stream = body.stream().ok()?;
    let result = read(&stream);
    // The stream is a child of the body: it must go first.
    drop(stream);
    drop(body);
    Some(result)
}

fn answer_action(out: ResponseOutparam, request: &str) {
    match actions::invoke(request, MAX_INLINE_BYTES) {
        Ok(text) => respond_text(out, 200, &text),
        Err(text) => {
            let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let code = value["error"]["code"].as_str().and_then(ErrorCode::parse).unwrap_or(ErrorCode::Other);
            respond_text(out, code.http_status(s3_status(&value)), &text)
        }
    }
}

fn respond_error(out: ResponseOutparam, error: ActionError, bucket: Option<&str>, key: Option<&str>) {
    let json = error.to_json(bucket, key);
    respond_json(out, error.code().http_status(s3_status(&json)), &json);
}

/// The `status` S3 answered with, as an error object carries it.
fn s3_status(error: &Value) -> Option<u16> {
    error["error"]["status"].as_u64().and_then(|s| u16::try_from(s).ok())
}

fn respond_json(out: ResponseOutparam, status: u16, value: &Value) {
    respond_text(out, status, &value.to_string());
}

fn respond_text(out: ResponseOutparam, status: u16, text: &str) {
    let headers = [
        ("content-type".to_owned(), b"application/json".to_vec()),
        ("content-length".to_owned(), text.len().to_string().into_bytes()),
    ];
    let Some(body) = start(out, status, &headers) else { return };
    if let Ok(sink) = body.write() {
        let written = stream_copy::write_all(&sink, text.as_bytes());
        drop(sink);
        if written.is_ok() {
            let _ = OutgoingBody::finish(body, None);
        }
    }
}

/// Sends the response head; the body is written by the caller.
fn start(out: ResponseOutparam, status: u16, headers: &[(String, Vec<u8>)]) -> Option<OutgoingBody> {
    // Invariant-free: headers that the host refuses are dropped, not fatal.
    let fields = Fields::new();
    for (name, value) in headers {
        let _ = fields.append(name, value);
    }
    let response = OutgoingResponse::new(fields);
    let _ = response.set_status_code(status);
    let body = response.body().ok()?;
    ResponseOutparam::set(out, Ok(response));
    Some(body)
}

fn object_headers(info: &ObjectInfo) -> Vec<(String, Vec<u8>)> {
    let mut headers = vec![("etag".to_owned(), info.etag.clone().into_bytes())];
    let optional = [
        ("content-type", &info.content_type),
        ("last-modified", &info.last_modified),
        ("content-range", &info.content_range),
        ("x-amz-version-id", &info.version_id),
    ];
    headers.extend(optional.into_iter().filter_map(|(n, v)| Some((n.to_owned(), v.clone()?.into_bytes()))));
    headers.push(("accept-ranges".to_owned(), b"bytes".to_vec()));
    headers
}
