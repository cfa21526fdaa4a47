//! The export of `serve`'s spans to an OpenTelemetry collector: OTLP over HTTP with JSON, in
//! batches, from a task of its own, so a slow or absent collector never slows a request (spans
//! wait in a bounded queue, see `super::span`). Configured as every OpenTelemetry SDK is, by
//! the `OTEL_*` environment variables ([`OtlpConfig::from_lookup`]); the request headers they
//! may name (a vendor's API key) are secrets: never logged, never in an error. A user and
//! password in the endpoint (`http://user:PASS@collector`) are sent as `Authorization: Basic`
//! and taken off the URL, so that neither the `Host` header nor a log line carries them.

use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::otlp_json;
use s3_connector_host::network::http_client;
use s3_connector_host::network::{CaBundle, CaBundleSource, ProxySettings, Trust};
use s3_connector_host::telemetry::span::{Span, SpanSink};

/// The most spans in one export request (the OpenTelemetry SDKs' default batch size).
const MAX_BATCH: usize = 512;
/// How long the first span of a batch waits for others before the batch goes.
const BATCH_DELAY: Duration = Duration::from_secs(1);
/// How long one export request may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how spans are exported.
#[derive(Clone)]
pub struct OtlpConfig {
    /// The traces URL (`.../v1/traces`).
    pub endpoint: http::Uri,
    /// Headers of every export request, marked sensitive.
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// `service.name` of the spans.
    pub service_name: String,
    /// Whom to trust for an `https` collector.
    trust: Trust,
    /// The proxies, as for every other request of the host.
    proxies: ProxySettings,
}

impl std::fmt::Debug for OtlpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("OtlpConfig")
            .field("endpoint", &s3_connector_host::secrets::redact::uri(&self.endpoint))
            .field("headers", &names)
            .field("service_name", &self.service_name)
            .finish_non_exhaustive()
    }
}

/// A setting of the span export that cannot be used; it names the variable and the rule.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OtlpConfigError {
    /// A protocol other than OTLP/HTTP with JSON.
    #[error("{variable}={value}: serve exports spans as OTLP over HTTP with JSON only; set it to http/json")]
    Protocol {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
    },
    /// An exporter other than OTLP.
    #[error("OTEL_TRACES_EXPORTER={0}: serve exports spans with otlp only (or none)")]
    Exporter(String),
    /// An endpoint that is not an `http`/`https` URL.
    #[error("{variable}={value}: the collector's URL must be http:// or https:// with a host")]
    Endpoint {
        /// The variable.
        variable: &'static str,
        /// Its value, as [`s3_connector_host::secrets::redact::url`] prints it.
        value: String,
    },
    /// A user and password in the endpoint and an `authorization` header besides: which of the
    /// two the collector expects cannot be told.
    #[error(
        "{variable} carries a user and password and the OTLP headers set authorization too; keep only one"
    )]
    TwoAuthorizations {
        /// The endpoint's variable.
        variable: &'static str,
    },
    /// Headers that do not read as `name=value,...`; the value is not repeated (it may hold a
    /// key).
    #[error("{variable}: {rule}")]
    Headers {
        /// The variable.
        variable: &'static str,
        /// What is wrong, without the values.
        rule: String,
    },
    /// The collector's CA file cannot be used.
    #[error("{0}")]
    Certificate(String),
}

impl OtlpConfig {
    /// The span export the `OTEL_*` variables through `lookup` ask for, or `None` when they
    /// ask for none: no endpoint, `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true`.
    /// Read: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the URL as is) else
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (a base to which `v1/traces` is added), the matching
    /// `..._PROTOCOL` (only `http/json`), `..._HEADERS` (`name=value,...`, percent-decoded),
    /// `..._CERTIFICATE` (the collector's CA, PEM), `OTEL_SERVICE_NAME` (default
    /// `s3-connector`); proxies as for S3 (`HTTPS_PROXY`, `NO_PROXY`, ...).
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>, OtlpConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        if get("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Ok(None);
        }
        match get("OTEL_TRACES_EXPORTER").as_deref() {
            None | Some("otlp") => {}
            Some("none") => return Ok(None),
            Some(other) => return Err(OtlpConfigError::Exporter(other.to_owned())),
        }
        let (variable, endpoint, basic) =
            match (get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), get("OTEL_EXPORTER_OTLP_ENDPOINT")) {
                (Some(url), _) => {
                    let variable = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
                    let (endpoint, basic) = parse_endpoint(variable, &url, false)?;
                    (variable, endpoint, basic)
                }
                (None, Some(base)) => {
                    let variable = "OTEL_EXPORTER_OTLP_ENDPOINT";
                    let (endpoint, basic) = parse_endpoint(variable, &base, true)?;
                    (variable, endpoint, basic)
                }
                (None, None) => return Ok(None),
            };
        for variable in ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
            if let Some(value) = get(variable) {
                if value != "http/json" {
                    return Err(OtlpConfigError::Protocol { variable, value });
                }
                break;
            }
        }
        let mut headers = match (get("OTEL_EXPORTER_OTLP_TRACES_HEADERS"), get("OTEL_EXPORTER_OTLP_HEADERS"))
        {
            (Some(list), _) => parse_headers("OTEL_EXPORTER_OTLP_TRACES_HEADERS", &list)?,
            (None, Some(list)) => parse_headers("OTEL_EXPORTER_OTLP_HEADERS", &list)?,
            (None, None) => Vec::new(),
        };
        if let Some(basic) = basic {
            if headers.iter().any(|(name, _)| name == http::header::AUTHORIZATION) {
                return Err(OtlpConfigError::TwoAuthorizations { variable });
            }
            headers.push((http::header::AUTHORIZATION, basic));
        }
        let certificate =
            get("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE").or_else(|| get("OTEL_EXPORTER_OTLP_CERTIFICATE"));
        let trust = match certificate {
            Some(path) => {
                let bundle = CaBundle { path: path.into(), source: CaBundleSource::OtlpCertificate };
                Trust::with_ca_bundle(bundle).map_err(|e| OtlpConfigError::Certificate(e.to_string()))?
            }
            None => Trust::system(),
        };
        let proxies = ProxySettings::resolve(None, lookup).unwrap_or_default();
        let service_name = get("OTEL_SERVICE_NAME").unwrap_or_else(|| "s3-connector".to_owned());
        Ok(Some(Self { endpoint, headers, service_name, trust, proxies }))
    }
}

/// An endpoint variable's URL, without its userinfo, and the `Authorization: Basic` value
/// (sensitive) the userinfo stands for; a base gets `v1/traces` added to its path.
fn parse_endpoint(
    variable: &'static str,
    value: &str,
    base: bool,
) -> Result<(http::Uri, Option<http::HeaderValue>), OtlpConfigError> {
    let invalid =
        || OtlpConfigError::Endpoint { variable, value: s3_connector_host::secrets::redact::url(value) };
    let url = if base { format!("{}/v1/traces", value.trim_end_matches('/')) } else { value.to_owned() };
    let uri: http::Uri = url.parse().map_err(|_| invalid())?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if !scheme_ok || uri.host().is_none_or(str::is_empty) {
        return Err(invalid());
    }
    let authority = uri.authority().map(|a| a.as_str().to_owned()).unwrap_or_default();
    let Some((userinfo, host_port)) = authority.rsplit_once('@') else {
        return match s3_connector_host::secrets::redact::plain_authority(&authority) {
            true => Ok((uri, None)),
            false => Err(invalid()),
        };
    };
    if !s3_connector_host::secrets::redact::plain_authority(host_port) {
        return Err(invalid());
    }
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let token =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", decode(user), decode(password)));
    let mut basic = http::HeaderValue::try_from(format!("Basic {token}")).map_err(|_| invalid())?;
    basic.set_sensitive(true);
    let mut parts = uri.into_parts();
    parts.authority = Some(host_port.parse().map_err(|_| invalid())?);
    let uri = http::Uri::from_parts(parts).map_err(|_| invalid())?;
    Ok((uri, Some(basic)))
}

/// `name=value,name2=value2`, each part percent-decoded (the OpenTelemetry specification's
/// format); every value is marked sensitive.
fn parse_headers(
    variable: &'static str,
    list: &str,
) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, OtlpConfigError> {
    let decode =
        |text: &str| percent_encoding::percent_decode_str(text.trim()).decode_utf8_lossy().into_owned();
    let mut headers = Vec::new();
    for (index, entry) in list.split(',').filter(|e| !e.trim().is_empty()).enumerate() {
        let rule =
            |what: &str| OtlpConfigError::Headers { variable, rule: format!("entry {}: {what}", index + 1) };
        let (name, value) = entry.split_once('=').ok_or_else(|| rule("is not name=value"))?;
        let name =
            http::HeaderName::try_from(decode(name)).map_err(|_| rule("the name is not a header name"))?;
        let mut value =
            http::HeaderValue::try_from(decode(value)).map_err(|_| rule("the value is not header text"))?;
        value.set_sensitive(true);
        headers.push((name, value));
    }
    Ok(headers)
}

/// The running export: its sink, and the way to stop it after a last flush.
pub struct OtlpExporter {
    sink: SpanSink,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl OtlpExporter {
    /// Starts exporting what is recorded into [`OtlpExporter::sink`]; needs a Tokio runtime.
    pub fn start(config: OtlpConfig) -> Self {
        let (sink, spans) = SpanSink::channel();
        let (stop, stopped) = oneshot::channel();
        tracing::info!(endpoint = %s3_connector_host::secrets::redact::uri(&config.endpoint), "exporting spans over OTLP/HTTP (JSON)");
        let task = tokio::spawn(run(config, spans, stopped));
        Self { sink, stop, task }
    }

    /// Where spans are recorded for export.
    pub fn sink(&self) -> SpanSink {
        self.sink.clone()
    }

    /// Exports what is queued, then stops; waits at most `timeout`.
    pub async fn shutdown(self, timeout: Duration) {
        let _ = self.stop.send(());
        if tokio::time::timeout(timeout, self.task).await.is_err() {
            tracing::warn!("the last spans were not exported within {} s", timeout.as_secs_f32());
        }
        let dropped = self.sink.dropped();
        if dropped > 0 {
            tracing::warn!(dropped, "spans were dropped: the export queue was full");
        }
    }
}

/// Sends batches until told to stop, then sends what is left.
async fn run(config: OtlpConfig, mut spans: mpsc::Receiver<Span>, mut stopped: oneshot::Receiver<()>) {
    loop {
        let first = tokio::select! {
            biased;
            _ = &mut stopped => None,
            span = spans.recv() => span,
        };
        let Some(first) = first else { break };
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::from_std(Instant::now() + BATCH_DELAY);
        while batch.len() < MAX_BATCH {
            match tokio::time::timeout_at(deadline, spans.recv()).await {
                Ok(Some(span)) => batch.push(span),
                _ => break,
            }
        }
        export(&config, &batch).await;
    }
    let mut rest = Vec::new();
    while let Ok(span) = spans.try_recv() {
        rest.push(span);
    }
    for batch in rest.chunks(MAX_BATCH) {
        export(&config, batch).await;
    }
}

/// One export request; a failure is logged (without the headers, and without the collector's
/// answer) and the batch dropped.
async fn export(config: &OtlpConfig, batch: &[Span]) {
    let body = Bytes::from(otlp_json::encode(&config.service_name, batch));
    let mut request = http::Request::post(config.endpoint.clone());
    for (name, value) in &config.headers {
        request = request.header(name, value);
    }
    let request = match request.header(http::header::CONTENT_TYPE, "application/json").body(body) {
        Ok(request) => request,
        Err(error) => {
            tracing::warn!(%error, "a span export request could not be built");
            return;
        }
    };
    match http_client::send(request, EXPORT_TIMEOUT, &config.trust, &config.proxies).await {
        Ok(response) if response.status.is_success() => {}
        // Only the status: a collector's error answer may echo the request's headers (one did
        // echo the API key), and scrubbing the configured values would miss any spelling it
        // chose (JSON-escaped, base64, truncated). The collector's own log has the rest.
        Ok(response) => {
            tracing::warn!(
                status = response.status.as_u16(),
                spans = batch.len(),
                "the collector refused spans"
            )
        }
        Err(error) => tracing::warn!(%error, spans = batch.len(), "spans could not be exported"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Option<OtlpConfig>, OtlpConfigError> {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        OtlpConfig::from_lookup(&|name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn the_otel_variables_choose_the_endpoint_or_no_export() {
        let base = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/");
        let table: &[(&[(&str, &str)], Option<&str>)] = &[
            (&[], None),
            (&[base], Some("http://127.0.0.1:4318/v1/traces")),
            (
                &[base, ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://otel.example/custom")],
                Some("https://otel.example/custom"),
            ),
            (&[base, ("OTEL_TRACES_EXPORTER", "none")], None),
            (&[base, ("OTEL_SDK_DISABLED", "true")], None),
            (&[base, ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")], Some("http://127.0.0.1:4318/v1/traces")),
        ];
        for (pairs, endpoint) in table {
            let got = config(pairs).unwrap().map(|c| c.endpoint.to_string());
            assert_eq!(got.as_deref(), *endpoint, "{pairs:?}");
        }
        let named = config(&[base, ("OTEL_SERVICE_NAME", "edge-gateway")]).unwrap().unwrap();
        assert_eq!(named.service_name, "edge-gateway");
        assert_eq!(config(&[base]).unwrap().unwrap().service_name, "s3-connector");
    }

    #[test]
    fn unusable_settings_name_the_variable_and_the_rule() {
        let base = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318");
        let table: &[(&[(&str, &str)], &str)] = &[
            (
                &[base, ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")],
                "OTEL_EXPORTER_OTLP_PROTOCOL=grpc: serve exports spans as OTLP over HTTP with JSON only; set it to http/json",
            ),
            (
                &[base, ("OTEL_TRACES_EXPORTER", "zipkin")],
                "OTEL_TRACES_EXPORTER=zipkin: serve exports spans with otlp only (or none)",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")],
                "OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318: the collector's URL must be http:// or https:// with a host",
            ),
            (
                &[base, ("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=SENTINEL-KEY,broken")],
                "OTEL_EXPORTER_OTLP_HEADERS: entry 2: is not name=value",
            ),
        ];
        for (pairs, message) in table {
            let error = config(pairs).unwrap_err().to_string();
            assert_eq!(error, *message);
            assert!(!error.contains("SENTINEL"), "a header value in an error: {error}");
        }
    }

    #[test]
    fn a_user_and_password_in_the_endpoint_become_basic_auth_and_leave_the_url() {
        let config =
            config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otlpuser:PASS%2FSENTINEL@127.0.0.1:4318")])
                .unwrap()
                .unwrap();
        assert_eq!(config.endpoint, "http://127.0.0.1:4318/v1/traces");
        let (name, value) = config.headers.last().unwrap();
        assert_eq!(name, http::header::AUTHORIZATION);
        let expected = base64::engine::general_purpose::STANDARD.encode("otlpuser:PASS/SENTINEL");
        assert_eq!(value.to_str().unwrap(), format!("Basic {expected}"));
        assert!(value.is_sensitive());
        assert!(!format!("{config:?}").contains("SENTINEL"), "{config:?}");

        let both = config_error(&[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://u:PASS-SENTINEL@otel.example/t"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20KEY-SENTINEL"),
        ]);
        assert!(both.starts_with("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT carries a user and password"), "{both}");
        // A password that breaks the URL is not quoted in the error that says so.
        let broken =
            config_error(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://u:PA/SS-SENTINEL@127.0.0.1:4318")]);
        assert!(broken.starts_with("OTEL_EXPORTER_OTLP_ENDPOINT=http://u:<redacted>@"), "{broken}");
        for error in [both, broken] {
            assert!(!error.contains("SENTINEL") && !error.contains("SS-"), "{error}");
        }
    }

    fn config_error(pairs: &[(&str, &str)]) -> String {
        match config(pairs) {
            Ok(_) => panic!("{pairs:?} was accepted"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn headers_are_percent_decoded_sensitive_and_absent_from_debug_output() {
        let config = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=SENTINEL%20KEY, x-team = edge"),
        ])
        .unwrap()
        .unwrap();
        let headers: Vec<(&str, &str)> =
            config.headers.iter().map(|(n, v)| (n.as_str(), v.to_str().unwrap())).collect();
        assert_eq!(headers, [("x-api-key", "SENTINEL KEY"), ("x-team", "edge")]);
        assert!(config.headers.iter().all(|(_, v)| v.is_sensitive()));
        let debug = format!("{config:?}");
        assert!(debug.contains("x-api-key") && !debug.contains("SENTINEL"), "{debug}");
    }
}
