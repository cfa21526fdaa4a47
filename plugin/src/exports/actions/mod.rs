//! JSON actions for workflow engines: parse ([`request`]), run ([`run`]), answer in one shape
//! ([`error`] for failures, [`content`] for inline bytes).
//!
//! Every response carries Boomi's tracked properties (`bucket`, `key`, `contentType`); the host
//! adds the id of the call's audit record, which only it knows.

mod bulk;
mod camunda;
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

/// Runs one JSON action, in the project's own form or Camunda's ([`camunda`]): the response or
/// the error object, both as JSON text.
pub fn invoke(request: &str, max_inline_bytes: u64) -> Result<String, String> {
    let (action, camunda, requester_pays) = match parse_either(request) {
        Ok(parsed) => parsed,
        Err(error) => return Err(error.to_json(None, None).to_string()),
    };
    let (bucket, key) = action.subject();
    let (bucket, key) = (bucket.map(str::to_owned), key.map(str::to_owned));
    let rules = if camunda.is_some() { content::ContentRules::Camunda } else { content::ContentRules::Own };
    let outcome = S3::from_host()
        .map(|s3| if requester_pays { s3.with_requester_pays() } else { s3 })
        .map_err(error::ActionError::from)
        .and_then(|s3| run::run(&s3, action, max_inline_bytes, rules))
        .map(|response| match camunda {
            Some(camunda_action) => camunda::answer(camunda_action, response),
            None => response,
        });
    match outcome {
        Ok(response) => Ok(with_tracked_properties(response, bucket, key).to_string()),
        Err(error) => Err(error.to_json(bucket.as_deref(), key.as_deref()).to_string()),
    }
}

/// The action of `request`, which of Camunda's actions it was when it came in Camunda's form,
/// and whether its requests pay for a requester-pays bucket (`requestPayer`, in either form).
fn parse_either(
    request: &str,
) -> Result<(request::Action, Option<camunda::CamundaAction>, bool), error::ActionError> {
    let value: Value = serde_json::from_str(request)
        .map_err(|e| error::ActionError::InvalidJson(format!("the request is not valid JSON: {e}")))?;
    let requester_pays = request::requester_pays(&value)?;
    match camunda::translate(&value)? {
        Some((own, action)) => Ok((request::parse(&own.to_string())?, Some(action), requester_pays)),
        None => Ok((request::parse(request)?, None, requester_pays)),
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
