//! JSON actions through the embedding API: [`Connector::invoke`].
//!
//! The plugin parses and runs the action; the host does what it cannot take on the guest's
//! word: its own denial reason wins over the guest's text, secrets handed to the guest are
//! scrubbed from what it returns, documents the guest created are published only when the
//! action succeeded, and every answer carries the id of the call (`auditId`). A presigned URL
//! is the host's own work (`runtime/presigning_import.rs`): the host never reads the request's
//! text to learn whether the answer holds one.

use std::fmt;

use std::sync::Arc;

use rand::Rng;
use s3_connector_rules::{ErrorBody, ErrorCode};
use serde_json::Value;

use wasmtime::Store;

use crate::connector::Connector;
pub use crate::connector::DEFAULT_MAX_INLINE_BYTES;
use crate::error::Error;
use crate::request_settings::{Refused, RequestSettings, without_authentication};
use crate::runtime::bindings::exports::s3_connector::s3::actions::ActionOptions;
use crate::runtime::store_state::StoreState;

/// A failed action: the JSON error object, `{"error": {"code", "message", "retryable",
/// "status", "requestId", "bucket", "key", "auditId"}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionFailure {
    json: Value,
}

impl ActionFailure {
    /// The error as JSON.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// The stable error code (see the list in docs/actions.md).
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("plugin")
    }

    /// The CLI's exit code: 3 refused by the policy, 2 bad input, 1 anything else.
    pub fn exit_code(&self) -> i32 {
        self.error_code().exit_code()
    }

    /// The HTTP status `serve` answers this failure with: the code's status, or S3's own for a
    /// `service` error.
    pub fn http_status(&self) -> u16 {
        let s3_status = self.json["error"]["status"].as_u64().and_then(|s| u16::try_from(s).ok());
        self.error_code().http_status(s3_status)
    }

    fn error_code(&self) -> ErrorCode {
        ErrorCode::parse(self.code()).unwrap_or(ErrorCode::Plugin)
    }

    /// A request setting the host does not take (see [`crate::request_settings`]).
    fn refused(refused: &Refused, view: &RequestView, audit_id: &str) -> Self {
        let message = refused.to_string();
        let mut body = ErrorBody::new(ErrorCode::InvalidField, &message);
        body.bucket = view.bucket.as_deref();
        body.key = view.key.as_deref();
        let mut json = body.to_json();
        json["error"]["auditId"] = Value::String(audit_id.to_owned());
        Self { json }
    }

    /// An error found before any action ran (no credentials, a bad setting): the same JSON
    /// error object, without the `auditId` of a call that never was, so that an engine reading
    /// `invoke`'s stdout meets one shape whatever failed.
    pub fn before_action(error: &Error) -> Self {
        let message = error.to_string();
        let mut body = ErrorBody::new(error.error_code(), &message);
        body.retryable = error.retryable();
        Self { json: body.to_json() }
    }

    fn from_error(error: &Error, view: &RequestView, audit_id: &str) -> Self {
        let message = error.to_string();
        let mut body = ErrorBody::new(error.error_code(), &message);
        body.retryable = error.retryable();
        body.bucket = view.bucket.as_deref();
        body.key = view.key.as_deref();
        let mut json = body.to_json();
        json["error"]["auditId"] = Value::String(audit_id.to_owned());
        Self { json }
    }
}

impl fmt::Display for ActionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.json["error"]["message"].as_str().unwrap_or("the action failed");
        write!(f, "{}: {message}", self.code())
    }
}

impl std::error::Error for ActionFailure {}

/// What the host reads from the request itself to name the subject of host-side errors, and to
/// add the provider to `testConnection`'s answer. Best effort, and never a security decision:
/// the guest reports malformed requests, and the host's checks are on what the plugin does.
#[derive(Debug, Default)]
struct RequestView {
    action: Option<String>,
    bucket: Option<String>,
    key: Option<String>,
}

impl RequestView {
    /// The view of a request's text, as the tests write it.
    #[cfg(test)]
    fn read(request: &str) -> Self {
        Self::of(&serde_json::from_str(request).unwrap_or(Value::Null))
    }

    /// The view of a parsed request (`Null` when it is not JSON: the guest reports that).
    fn of(value: &Value) -> Self {
        let text = |v: &Value| v.as_str().map(str::to_owned);
        Self {
            action: text(&value["action"]),
            // Camunda's form nests the fields in `action`.
            bucket: text(&value["bucket"]).or_else(|| text(&value["action"]["bucket"])),
            key: text(&value["key"])
                .or_else(|| text(&value["document"]["metadata"]["fileName"]))
                .or_else(|| text(&value["action"]["key"]))
                .or_else(|| text(&value["action"]["document"]["metadata"]["fileName"])),
        }
    }
}

/// A fresh id for one call, quoted in its answer (and its audit records).
fn new_audit_id() -> String {
    format!("{:032x}", rand::rng().random::<u128>())
}

/// Parses what the guest returned, which must be a JSON object.
fn guest_json(text: &str) -> Result<Value, Error> {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(Error::Plugin(
            "the plugin answered an action with something other than a JSON object".to_owned(),
        )),
    }
}

impl Connector {
    /// Runs one JSON action (see `schema/actions.schema.json` and docs/actions.md) in a fresh
    /// instance. The answer is the action's response object, with `auditId` added; a failure
    /// is the one error shape, never a panic or a trap.
    pub async fn invoke(&self, request: &str) -> Result<Value, ActionFailure> {
        let audit_id = new_audit_id();
        // Every record of this call carries its id.
        let mut call_id = Some(audit_id.clone());
        // Parsed once: the host's view of the request and its request-scoped settings.
        let value: Value = serde_json::from_str(request).unwrap_or(Value::Null);
        let view = RequestView::of(&value);
        // Camunda's request-scoped settings: the host decides before anything runs.
        let decided = RequestSettings::read(&value).and_then(|settings| {
            settings.decide(self.connection(), self.settings().allow_request_credentials)
        });
        let request_credentials = match decided {
            Err(refused) => return Err(ActionFailure::refused(&refused, &view, &audit_id)),
            Ok(credentials) => credentials,
        };
        let call = self.for_one_call(|settings| {
            if let Some(audit) = &mut settings.shared.audit {
                audit.call_id = call_id.take();
            }
            if let Some(credentials) = request_credentials {
                settings.shared.credentials = Arc::new(credentials);
            }
        });
        if value.get("authentication").is_some() {
            let stripped = without_authentication(&value).to_string();
            return call.invoke_as(&stripped, view, audit_id).await;
        }
        call.invoke_as(request, view, audit_id).await
    }

    async fn invoke_as(
        &self,
        request: &str,
        view: RequestView,
        audit_id: String,
    ) -> Result<Value, ActionFailure> {
        let fail = |error: Error| ActionFailure::from_error(&error, &view, &audit_id);
        let mut call = self.sandbox().await.map_err(fail)?;
        let options = ActionOptions { max_inline_bytes: self.settings().max_inline_bytes };
        let answer = self
            .run_plugin(
                &mut call,
                |runtime, store, instance| runtime.actions.load(store, instance),
                async |actions, store| actions.call_invoke(store, request, options).await,
            )
            .await;
        let outcome = match answer {
            Err(error) => Err(fail(error)),
            Ok(Err(text)) => Err(match call.denial() {
                Some(denial) => fail(denial),
                None => match guest_json(&call.scrub(&text)) {
                    Ok(mut json) if json["error"]["code"] != "denied-by-host" => {
                        // A network failure in the host's words: which host, what to try.
                        let code = &json["error"]["code"];
                        if (code == "transport" || code == "timeout")
                            && let Some(failure) = call.network_failure()
                        {
                            json["error"]["message"] = Value::String(failure.to_string());
                        }
                        json["error"]["auditId"] = Value::String(audit_id.clone());
                        ActionFailure { json }
                    }
                    Ok(_) => {
                        fail(Error::Plugin("the plugin reported a denial the host did not make".to_owned()))
                    }
                    Err(error) => fail(error),
                },
            }),
            Ok(Ok(text)) => {
                guest_json(&call.scrub(&text)).map(|response| self.completed(&view, response)).map_err(fail)
            }
        };
        let outcome = finish_documents(&mut call.store, outcome.is_ok()).await.map_err(fail).and(outcome);
        outcome.map(|mut response| {
            response["auditId"] = Value::String(audit_id.clone());
            response
        })
    }

    /// A successful answer with what only the host knows: `testConnection` gets the name of
    /// the credentials provider.
    fn completed(&self, view: &RequestView, mut response: Value) -> Value {
        if view.action.as_deref() == Some("testConnection") && response["credentials"].is_object() {
            response["credentials"]["provider"] = Value::String(self.credentials_provider().to_owned());
        }
        response
    }
}

/// Publishes (`keep`) or removes the documents the guest created during a call.
async fn finish_documents(store: &mut Store<StoreState>, keep: bool) -> Result<(), Error> {
    let created = std::mem::take(&mut store.data_mut().created_documents);
    let Some(documents) = store.data().document_store(None).ok() else { return Ok(()) };
    let mut result = Ok(());
    for id in created {
        if let Err(e) = documents.finish(&id, keep).await {
            result = result.and(Err(Error::local(e.to_string())));
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::policy::Denial;
    use crate::types::S3Error;

    #[test]
    fn the_host_reads_the_subject_from_the_request_itself() {
        let view = RequestView::read(r#"{"action":"presign","bucket":"b","key":"k","method":"put"}"#);
        assert_eq!(
            (view.action.as_deref(), view.bucket.as_deref(), view.key.as_deref()),
            (Some("presign"), Some("b"), Some("k"))
        );
        let upload = RequestView::read(
            r#"{"action":"uploadDocument","bucket":"b","document":{"metadata":{"fileName":"f.pdf"}}}"#,
        );
        assert_eq!(upload.key.as_deref(), Some("f.pdf"));
        let garbage = RequestView::read("{");
        assert_eq!((garbage.action, garbage.bucket), (None, None));
    }

    #[test]
    fn failures_have_exit_codes_by_code() {
        let view = RequestView::default();
        let table: &[(Error, &str, i32)] = &[
            (Error::Denied(Denial("no".into())), "denied-by-host", 3),
            (Error::S3(S3Error::Timeout), "timeout", 1),
            (Error::Plugin("trap".into()), "plugin", 1),
            (Error::Usage("bad".into()), "usage", 2),
        ];
        for (error, code, exit) in table {
            let failure = ActionFailure::from_error(error, &view, "id");
            assert_eq!((failure.code(), failure.exit_code()), (*code, *exit));
            assert_eq!(failure.json()["error"]["auditId"], "id");
        }
        let guest = ActionFailure { json: json!({"error": {"code": "invalid-field"}}) };
        assert_eq!((guest.exit_code(), guest.http_status()), (2, 400));
        let service = ActionFailure { json: json!({"error": {"code": "service", "status": 503}}) };
        assert_eq!(service.http_status(), 503);
        let denied = ActionFailure::from_error(&Error::Denied(Denial("no".into())), &view, "id");
        assert_eq!(denied.http_status(), 403);
    }
}
