//! JSON actions for workflow engines: parse ([`request`]), run ([`run`]), answer in one shape
//! ([`error`] for failures, [`content`] for inline bytes).
//!
//! Every response carries Boomi's tracked properties (`bucket`, `key`, `contentType`); the host
//! adds the id of the call's audit record, which only it knows.

mod content;
pub(crate) mod error;
mod request;
mod run;

pub(crate) use request::parse as parse_request;

use serde_json::{Map, Value};

use crate::transport::client::S3;

#[cfg(not(feature = "edge"))]
impl crate::bindings::exports::s3_connector::s3::actions::Guest for crate::exports::client::Plugin {
    fn invoke(
        request: String,
        options: crate::bindings::exports::s3_connector::s3::actions::ActionOptions,
    ) -> Result<String, String> {
        invoke(&request, options.max_inline_bytes)
    }
}

/// Runs one JSON action: the response or the error object, both as JSON text.
pub fn invoke(request: &str, max_inline_bytes: u64) -> Result<String, String> {
    let action = match request::parse(request) {
        Ok(action) => action,
        Err(error) => return Err(error.to_json(None, None).to_string()),
    };
    let (bucket, key) = action.subject();
    let (bucket, key) = (bucket.map(str::to_owned), key.map(str::to_owned));
    let outcome = S3::from_host()
        .map_err(error::ActionError::from)
        .and_then(|s3| run::run(&s3, action, max_inline_bytes));
    match outcome {
        Ok(response) => Ok(with_tracked_properties(response, bucket, key).to_string()),
        Err(error) => Err(error.to_json(bucket.as_deref(), key.as_deref()).to_string()),
    }
}

/// Adds `bucket`, `key` and `contentType` unless the action set them (an upload's key may come
/// from the document's file name).
fn with_tracked_properties(
    mut response: Map<String, Value>,
    bucket: Option<String>,
    key: Option<String>,
) -> Value {
    response.entry("bucket").or_insert(bucket.map_or(Value::Null, Value::String));
    response.entry("key").or_insert(key.map_or(Value::Null, Value::String));
    response.entry("contentType").or_insert(Value::Null);
    Value::Object(response)
}
