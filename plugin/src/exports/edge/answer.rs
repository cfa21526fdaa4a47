//! What the edge answers to one request, whichever `wasi:http` it arrived through: the one
//! implementation of the edge's routes, its S3 calls and its error answers. The WASI 0.2
//! handler ([`super::handler`]) and the WASI 0.3 one ([`super::handler_p3`]) only read their
//! request through [`EdgeRequest`] and write the [`Answer`] back, so both serve the same routes
//! under the same rules.

use s3_connector_rules::{ErrorBody, ErrorCode};
use serde_json::{Value, json};

use super::route::{self, NoRoute, Route};
use crate::bindings::s3_connector::s3::types::{GetOptions, ObjectInfo, PutOptions, S3Error};
use crate::exports::actions::{self, error::ActionError};
use crate::operations as op;
use crate::protocol::checked_names::Object;
use crate::transport::client::S3;
use crate::transport::stream_copy::{self, ByteSource};
use crate::transport::wire::{Body, Response};

/// Request bodies up to this size are read into memory before they are sent, so that the
/// plugin's retries can replay them.
const REPLAYABLE_BODY: u64 = 1024 * 1024;
/// The largest `POST /actions` body read.
const MAX_ACTION_BYTES: usize = 1024 * 1024;
/// Inline content of actions is capped like in the plugin world's default.
const MAX_INLINE_BYTES: u64 = 8 * 1024 * 1024;

/// One incoming request as the routes need it: its line, its headers and (once) its body.
pub trait EdgeRequest {
    /// The body, read a chunk at a time by the uploads.
    type Body: ByteSource;

    /// The method, upper case (`GET`, or the name of another method as sent).
    fn method(&self) -> String;
    /// The path with its query, `/` when the request has none.
    fn path_with_query(&self) -> String;
    /// The first value of header `name`, if it is text.
    fn header(&self, name: &str) -> Option<String>;
    /// The body; `None` when it cannot be taken (taken already, or refused by the host).
    fn take_body(&mut self) -> Option<Self::Body>;
}

/// The response to send: status and headers first, then the body.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The headers, names lower case.
    pub headers: Vec<(String, Vec<u8>)>,
    /// What follows the head.
    pub body: AnswerBody,
}

/// The body of an [`Answer`].
pub enum AnswerBody {
    /// None (HEAD, DELETE's 204).
    Empty,
    /// Bytes in memory (JSON answers).
    Bytes(Vec<u8>),
    /// An object's body, still to be read from S3: its `content-length` is in the headers, and
    /// a body that ends short of it must end the response unfinished (the client then sees a
    /// truncated response rather than a short object).
    Object(Response),
}

/// Routes `request`, makes its S3 calls and says what to answer.
pub fn answer(mut request: impl EdgeRequest) -> Answer {
    match route::route(&request.method(), &request.path_with_query()) {
        Ok(route) => serve(route, &mut request),
        Err(NoRoute { status, message }) => {
            json_answer(status, &ErrorBody::new(ErrorCode::InvalidRequest, &message).to_json())
        }
    }
}

fn serve(route: Route, request: &mut impl EdgeRequest) -> Answer {
    let s3 = match S3::from_host() {
        Ok(s3) => s3,
        Err(e) => return error_answer(ActionError::S3(e), None, None),
    };
    match route {
        Route::GetObject { bucket, key } => {
            let range = match request.header("range").map(|r| route::byte_range(&r)).transpose() {
                Ok(range) => range,
                Err(message) => {
                    return error_answer(ActionError::InvalidField(message), Some(&bucket), Some(&key));
                }
            };
            let options = GetOptions { range, ..GetOptions::default() };
            match Object::checked(&bucket, &key)
                .and_then(|object| op::get_object_response(&s3, object, &options))
            {
                Err(e) => error_answer(ActionError::S3(e), Some(&bucket), Some(&key)),
                Ok((info, response)) => {
                    let status = if info.content_range.is_some() { 206 } else { 200 };
                    let length = response.header("content-length").map(str::to_owned);
                    let mut headers = object_headers(&info);
                    headers.extend(length.map(|l| ("content-length".to_owned(), l.into_bytes())));
                    Answer { status, headers, body: AnswerBody::Object(response) }
                }
            }
        }
        Route::HeadObject { bucket, key } => match Object::checked(&bucket, &key)
            .and_then(|object| op::head_object(&s3, object, &GetOptions::default()))
        {
            Err(e) => error_answer(ActionError::S3(e), Some(&bucket), Some(&key)),
            Ok(info) => {
                let mut headers = object_headers(&info);
                headers.push(("content-length".to_owned(), info.size.to_string().into_bytes()));
                Answer { status: 200, headers, body: AnswerBody::Empty }
            }
        },
        Route::PutObject { bucket, key } => {
            let length = request.header("content-length").and_then(|l| l.parse::<u64>().ok());
            let options =
                PutOptions { content_type: request.header("content-type"), ..PutOptions::default() };
            let Some(body) = request.take_body() else {
                let e = S3Error::Other("the request body cannot be read".to_owned());
                return error_answer(ActionError::S3(e), Some(&bucket), Some(&key));
            };
            // Known lengths up to the multipart threshold go as one PutObject; longer bodies, and
            // bodies of unknown length, as a multipart upload (parts side by side, bounded memory).
            let result = Object::checked(&bucket, &key).and_then(|object| match length {
                // A small body is read first, so that a retry can send it again; a streamed one
                // cannot be replayed.
                Some(length) if length <= REPLAYABLE_BODY => {
                    let (bytes, _) = stream_copy::read_up_to(&body, length as usize)
                        .map_err(|e| S3Error::Other(format!("reading the request body failed: {e}")))?;
                    if bytes.len() as u64 != length {
                        return Err(S3Error::InvalidRequest(format!(
                            "the request body ended after {} of its {length} bytes; nothing was stored",
                            bytes.len()
                        )));
                    }
                    let bytes = if bytes.is_empty() { Body::Empty } else { Body::Bytes(&bytes) };
                    op::put_object(&s3, object, bytes, &options)
                }
                _ => crate::transfers::multipart_upload::upload_stream(&s3, object, &body, length, &options),
            });
            match result {
                Ok(put) => json_answer(200, &json!({"bucket": bucket, "key": key, "etag": put.etag})),
                Err(e) => error_answer(ActionError::S3(e), Some(&bucket), Some(&key)),
            }
        }
        Route::DeleteObject { bucket, key } => {
            match Object::checked(&bucket, &key).and_then(|object| op::delete_object(&s3, object, None)) {
                Ok(()) => Answer { status: 204, headers: Vec::new(), body: AnswerBody::Empty },
                Err(e) => error_answer(ActionError::S3(e), Some(&bucket), Some(&key)),
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
            action_answer(&action.to_string())
        }
        Route::Actions => {
            let text = request.take_body().map(|body| stream_copy::read_up_to(&body, MAX_ACTION_BYTES + 1));
            match text {
                Some(Ok((bytes, _))) if bytes.len() <= MAX_ACTION_BYTES => {
                    action_answer(&String::from_utf8_lossy(&bytes))
                }
                Some(Ok(_)) => error_answer(
                    ActionError::ContentTooLarge(format!(
                        "the action is over {MAX_ACTION_BYTES} bytes; send large content as an object (PUT)"
                    )),
                    None,
                    None,
                ),
                _ => error_answer(
                    ActionError::InvalidJson("the request body cannot be read".into()),
                    None,
                    None,
                ),
            }
        }
    }
}

fn action_answer(request: &str) -> Answer {
    match actions::invoke(request, MAX_INLINE_BYTES) {
        Ok(text) => text_answer(200, text),
        Err(text) => {
            let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let code = value["error"]["code"].as_str().and_then(ErrorCode::parse).unwrap_or(ErrorCode::Other);
            text_answer(code.http_status(s3_status(&value)), text)
        }
    }
}

fn error_answer(error: ActionError, bucket: Option<&str>, key: Option<&str>) -> Answer {
    let json = error.to_json(bucket, key);
    json_answer(error.code().http_status(s3_status(&json)), &json)
}

/// The `status` S3 answered with, as an error object carries it.
fn s3_status(error: &Value) -> Option<u16> {
    error["error"]["status"].as_u64().and_then(|s| u16::try_from(s).ok())
}

fn json_answer(status: u16, value: &Value) -> Answer {
    text_answer(status, value.to_string())
}

fn text_answer(status: u16, text: String) -> Answer {
    let headers = vec![
        ("content-type".to_owned(), b"application/json".to_vec()),
        ("content-length".to_owned(), text.len().to_string().into_bytes()),
    ];
    Answer { status, headers, body: AnswerBody::Bytes(text.into_bytes()) }
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
