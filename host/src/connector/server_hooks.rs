//! What a server in front of the connector needs from it, as public calls rather than access to
//! its settings: a copy that carries one request's trace, a copy whose audit records and
//! credentials pass through the server's own layers (its metrics), an audit record of the
//! server's own refusals, and the readiness checks of its probes.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;

use super::Connector;
use crate::audit::{Audit, AuditRecord, AuditSink};
use crate::credentials::{CredentialsError, CredentialsProvider};
use crate::network::failure::FailureLog;
use crate::runtime::connection_pool;
use crate::telemetry::trace_context::TraceContext;
use wasmtime_wasi_http::RequestOptions;

impl Connector {
    /// This connector for the calls of one incoming request: its audit records name the
    /// request's trace id, and the requests it sends to S3 carry its trace.
    pub fn traced(&self, trace: &TraceContext) -> Connector {
        self.for_one_call(|settings| {
            if let Some(audit) = &mut settings.shared.audit {
                audit.serve_request_id = Some(trace.trace_id().to_owned());
            }
            settings.shared.trace = Some(trace.clone());
        })
    }

    /// This connector with its audit records written to the sink `wrap` returns, which is given
    /// the connector's own sink (if any) to pass them on to.
    pub fn with_audit_sink(
        &self,
        wrap: impl FnOnce(Option<Arc<dyn AuditSink>>) -> Arc<dyn AuditSink>,
    ) -> Connector {
        let tenant = self.tenant().to_owned();
        self.for_one_call(|settings| {
            let sink = wrap(settings.shared.audit.take().map(|audit| audit.sink));
            settings.shared.audit = Some(Audit { sink, tenant, call_id: None, serve_request_id: None });
        })
    }

    /// This connector with its credentials taken from the provider `wrap` returns, which is given
    /// the connector's own provider (to count or cache its refreshes, say).
    pub fn with_credentials(
        &self,
        wrap: impl FnOnce(Arc<dyn CredentialsProvider>) -> Arc<dyn CredentialsProvider>,
    ) -> Connector {
        self.for_one_call(|settings| {
            settings.shared.credentials = wrap(settings.shared.credentials.clone());
        })
    }

    /// Writes `record` (a refusal of the caller's own, before any call) to this connector's
    /// audit sink, with its tenant and request id, as the calls' own records are.
    pub fn audit(&self, record: AuditRecord) {
        if let Some(audit) = &self.settings.shared.audit {
            audit.write(record);
        }
    }

    /// Whether the credentials provider answers now (for a readiness probe).
    pub async fn check_credentials(&self) -> Result<(), CredentialsError> {
        self.settings.shared.credentials.credentials().await.map(drop)
    }

    /// Whether the endpoint answers an unsigned `HEAD /` sent as S3 requests are: the same
    /// trust, proxies (`CONNECT` for `https`), resolver overrides and connection pool. Any answer
    /// counts, an S3 error too (the request is anonymous); no answer within `timeout` does not.
    pub async fn endpoint_answers(&self, timeout: Duration) -> bool {
        let connection = self.connection();
        let body = http_body_util::Empty::new().map_err(|never: std::convert::Infallible| match never {});
        let Ok(request) =
            http::Request::head(format!("{}/", connection.endpoint.url())).body(body.boxed_unsync())
        else {
            return false;
        };
        let network = &connection.network;
        let options = RequestOptions {
            connect_timeout: Some(timeout),
            first_byte_timeout: Some(timeout),
            between_bytes_timeout: Some(timeout),
        };
        let failures = FailureLog::default();
        let sent = connection_pool::send(
            request,
            options,
            &network.trust,
            &network.proxy,
            &network.resolve,
            &failures,
        );
        matches!(tokio::time::timeout(timeout, sent).await, Ok(Ok(_)))
    }
}
