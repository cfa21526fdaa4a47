//! The `presigning` import: the host presigns URLs for the plugin.
//!
//! A presigned URL leaves the sandbox in an answer, not as a request, so the egress guard never
//! sees it. The host used to read the request's text to guess whether an answer held a URL and
//! checked it then; a request shaped otherwise skipped the check (issue 29). Now a URL exists
//! only where the host signs it: here, with credentials the plugin never sees, after the expiry
//! cap and the policy allowed exactly what was asked, with an audit record either way. The
//! plugin cannot presign on its own: it holds no secret, only a key for requests of the day,
//! which the egress guard checks one by one.

use std::time::{Duration, SystemTime};

use s3_connector_rules::sigv4::{self, Payload};

use super::bindings::s3_connector::s3::presigning;
use super::bindings::s3_connector::s3::types::{PresignMethod, PresignRequest, S3Error};
use super::store_state::{Shared, StoreState};
use crate::audit::{AuditRecord, Decision, Kind};
use crate::policy::s3_address::{AddressError, parse, parse_presigned};
use crate::policy::{Denial, Grant, S3Action, S3Request};

/// S3's limit on a presigned URL's lifetime: 7 days.
pub const MAX_PRESIGN_SECONDS: u32 = 7 * 24 * 3600;

/// Why the host made no URL.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    /// The policy or the expiry cap forbids it.
    #[error("{0}")]
    Denied(Denial),
    /// The request is malformed (an expiry out of S3's range, an unsigned name).
    #[error("{0}")]
    Invalid(String),
    /// The host has no credentials to sign with.
    #[error("{0}")]
    Credentials(String),
}

impl presigning::Host for StoreState {
    async fn presign(&mut self, request: PresignRequest) -> Result<String, S3Error> {
        let shared = self.shared().clone();
        let outcome = presign(&shared, &request, SystemTime::now()).await;
        if let Some(audit) = &shared.audit {
            let verdict = outcome.as_ref().map(|(_, parsed, grant)| (parsed, grant));
            audit.write(presign_record(&audit.tenant, &request, verdict.map_err(ToString::to_string)));
        }
        match outcome {
            Ok((url, _, _)) => {
                // The URL carries the session token by design; the host's scrub of what the
                // guest answers must hand it out whole.
                self.issued_urls.push(url.clone());
                Ok(url)
            }
            Err(Refusal::Denied(denial)) => {
                let message = denial.to_string();
                self.scope_denials.push(denial);
                Err(S3Error::DeniedByHost(message))
            }
            Err(Refusal::Invalid(message)) => Err(S3Error::InvalidRequest(message)),
            Err(Refusal::Credentials(message)) => Err(S3Error::AccessDenied(message)),
        }
    }
}

/// Checks `request` against the expiry cap and the policy, signs it, and checks the URL it made
/// as the egress guard checks a request (the parser's reading of the very URL handed out).
async fn presign(
    shared: &Shared,
    request: &PresignRequest,
    now: SystemTime,
) -> Result<(String, S3Request, Grant), Refusal> {
    let expires_in = request.expires_in_seconds;
    if expires_in == 0 || expires_in > MAX_PRESIGN_SECONDS {
        return Err(Refusal::Invalid(format!(
            "an expiry of {expires_in} seconds is out of range; presigned URLs last 1 to {MAX_PRESIGN_SECONDS} \
             seconds (7 days)"
        )));
    }
    if let Some(denial) = expiry_denial(expires_in, shared.max_presign_seconds, shared.pinned_time, now) {
        return Err(Refusal::Denied(denial));
    }
    let method = presign_action(request.method).method();
    let connection = &shared.connection;
    let object = &request.object;
    let target = s3_connector_rules::target(
        &connection.endpoint,
        connection.path_style,
        Some(&object.bucket),
        Some(&object.key),
        &[],
    );
    // Checked before anything is signed: the policy decides on the URL as it will be, read by
    // the egress guard's parser (the dot-segment rule and the endpoint included).
    let refused = |e: AddressError| Refusal::Denied(Denial(format!("the presigned URL was refused: {e}")));
    let uri: http::Uri = target
        .url()
        .parse()
        .map_err(|_| Refusal::Invalid(format!("s3://{}/{} makes no URL", object.bucket, object.key)))?;
    let unsigned = parse(&method, &uri, &http::HeaderMap::new(), &connection.endpoint).map_err(refused)?;
    if unsigned.bucket.as_deref() != Some(object.bucket.as_str())
        || unsigned.key.as_deref() != Some(object.key.as_str())
    {
        return Err(Refusal::Invalid(format!(
            "s3://{}/{} does not address as itself; name the object as S3 stores it",
            object.bucket, object.key
        )));
    }
    let grant = shared.policy.decide(&unsigned).map_err(Refusal::Denied)?;

    if !shared.credentials.signs() {
        return Err(Refusal::Invalid(
            "a presigned URL needs credentials; this connector sends unsigned requests (--no-sign-request)"
                .to_owned(),
        ));
    }
    let signed_at = shared.pinned_time.unwrap_or(now);
    let credentials =
        shared.credentials.credentials().await.map_err(|e| Refusal::Credentials(e.to_string()))?;
    let date = sigv4::signing_date(signed_at).map_err(|e| Refusal::Invalid(e.to_string()))?;
    let identity = shared.signing_keys.identity(&credentials, &date, &connection.region);
    let mut signed =
        http::Request::builder().method(method.clone()).uri(target.url()).body(()).map_err(|e| {
            Refusal::Invalid(format!("cannot presign s3://{}/{}: {e}", object.bucket, object.key))
        })?;
    sigv4::sign_request(
        &mut signed,
        &identity,
        Payload::Unsigned,
        Some(Duration::from_secs(u64::from(expires_in))),
        signed_at,
    )
    .map_err(|e| Refusal::Invalid(e.to_string()))?;
    let url = signed.uri().to_string();
    // The URL as signed, read back: the same object and method, and within the cap.
    let (parsed, expires) = parse_presigned(&method, &url, &connection.endpoint).map_err(refused)?;
    if parsed != unsigned || expires != u64::from(expires_in) {
        return Err(Refusal::Denied(Denial(format!(
            "the presigned URL was refused: it does not read back as s3://{}/{} for {expires_in} seconds",
            object.bucket, object.key
        ))));
    }
    Ok((url, parsed, grant))
}

/// Why an expiry of `expires_in` seconds is over the host's cap `max` (none when within it):
/// counted from the signing time, and from the real clock `now` when the time is pinned (`--at`)
/// in the future, since a pinned future time would stretch the cap.
fn expiry_denial(
    expires_in: u32,
    max: u32,
    pinned_time: Option<SystemTime>,
    now: SystemTime,
) -> Option<Denial> {
    if expires_in > max {
        return Some(Denial(format!(
            "an expiry of {expires_in} seconds is over the host's cap of {max} seconds; ask for less"
        )));
    }
    let until = pinned_time?.checked_add(Duration::from_secs(u64::from(expires_in)))?;
    let limit = now.checked_add(Duration::from_secs(u64::from(max)))?;
    let late = until.duration_since(limit).ok()?.as_secs().max(1);
    Some(Denial(format!(
        "the URL would stay valid {late} seconds beyond the host's cap of {max} seconds from now, since the pinned \
         time (--at) is in the future; pin a time in the past or ask for less"
    )))
}

/// The audit record of a presigned URL: what was asked and the verdict, never the URL.
fn presign_record(
    tenant: &str,
    request: &PresignRequest,
    verdict: Result<(&S3Request, &Grant), String>,
) -> AuditRecord {
    let decision = if verdict.is_ok() { Decision::Allowed } else { Decision::Denied };
    let mut record = AuditRecord::new(tenant, Kind::Presign, decision);
    record.method = Some(presign_action(request.method).method().to_string());
    record.bucket = Some(request.object.bucket.clone());
    record.key = Some(request.object.key.clone());
    match verdict {
        Ok((parsed, grant)) => {
            record.access = Some(parsed.access.name().to_owned());
            record.action = Some(parsed.action.name().to_owned());
            record.rule = Some(grant.to_string());
        }
        Err(reason) => record.reason = Some(reason),
    }
    record
}

/// The action a presigned URL for `method` grants: the host's one reading of the contract's
/// presign methods.
pub fn presign_action(method: PresignMethod) -> S3Action {
    match method {
        PresignMethod::Get => S3Action::GetObject,
        PresignMethod::Head => S3Action::HeadObject,
        PresignMethod::Put => S3Action::PutObject,
        PresignMethod::Delete => S3Action::DeleteObject,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expiry_cap_counts_from_the_real_clock_when_the_time_is_pinned() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_644_800);
        let hour = Duration::from_secs(3600);
        let table = [
            (600, 3600, None, None),
            (3601, 3600, None, Some("over the host's cap of 3600")),
            (3600, 3600, Some(now - hour), None),
            (3600, 3600, Some(now + hour), Some("3600 seconds beyond")),
        ];
        for (expires_in, max, pinned, refused) in table {
            let denial = expiry_denial(expires_in, max, pinned, now);
            match refused {
                None => assert!(denial.is_none(), "{expires_in} {pinned:?}: {denial:?}"),
                Some(part) => assert!(denial.is_some_and(|d| d.0.contains(part)), "{expires_in} {pinned:?}"),
            }
        }
    }
}
