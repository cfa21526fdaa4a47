//! Presigned URLs: the host's cap on their lifetime, checked before the plugin signs, and the
//! URL the plugin returns parsed and checked against the policy before it is handed out.

use std::time::{Duration, SystemTime};

use crate::audit::{AuditRecord, Decision, Kind};
use crate::error::Error;
use crate::policy::s3_address::parse_presigned;
use crate::policy::{Denial, Grant, S3Action, S3Request};
use crate::types::{PresignMethod, PresignRequest};

use super::{Connector, MAX_PRESIGN_SECONDS};

/// Presigning, and the checks every presigned URL meets (also those of JSON actions).
impl Connector {
    /// A presigned URL. The host checks the expiry against its cap first, then parses the URL
    /// the plugin returns and checks it against the policy, as if it were a request: a URL
    /// for anything else than what was asked, or anything the policy forbids, is discarded.
    pub async fn presign(&self, request: PresignRequest) -> Result<String, Error> {
        let method = presign_action(request.method).method();
        self.check_presign_expiry(&method, &request)?;
        let url = self.call(async |client, store| client.call_presign(store, &request).await).await?;
        self.admit_presigned(&method, &request, &url)?;
        Ok(url)
    }

    /// Refuses an expiry over the host's cap before the plugin signs anything (beyond S3's own
    /// 7 days it is bad input, which the plugin reports), and records the refusal.
    pub(crate) fn check_presign_expiry(
        &self,
        method: &http::Method,
        request: &PresignRequest,
    ) -> Result<(), Error> {
        let denial = if request.expires_in_seconds > self.settings.max_presign_seconds
            && request.expires_in_seconds <= MAX_PRESIGN_SECONDS
        {
            Denial(format!(
                "an expiry of {} seconds is over the host's cap of {} seconds; ask for less",
                request.expires_in_seconds, self.settings.max_presign_seconds
            ))
        } else if let Some(late) = self.valid_beyond_cap(request.expires_in_seconds, SystemTime::now()) {
            Denial(format!(
                "the URL would stay valid {late} seconds beyond the host's cap of {} seconds from now, since the \
                 pinned time (--at) is in the future; pin a time in the past or ask for less",
                self.settings.max_presign_seconds
            ))
        } else {
            return Ok(());
        };
        if let Some(audit) = &self.settings.shared.audit {
            let denied = Err(Error::Denied(denial.clone()));
            audit.write(presign_record(&audit.tenant, method, request, &denied));
        }
        Err(Error::Denied(denial))
    }

    /// How many seconds a URL signed at the pinned time and lasting `expires_in` seconds would
    /// stay valid beyond the cap counted from the real clock `now`; `None` when within it. The
    /// cap counts from the signing time, so without this a pinned future time would stretch it.
    fn valid_beyond_cap(&self, expires_in: u32, now: SystemTime) -> Option<u64> {
        let signed = self.settings.shared.pinned_time?;
        let until = signed.checked_add(Duration::from_secs(u64::from(expires_in)))?;
        let limit = now.checked_add(Duration::from_secs(u64::from(self.settings.max_presign_seconds)))?;
        until.duration_since(limit).ok().map(|late| late.as_secs().max(1))
    }

    /// Checks a URL the plugin presigned for `request` and records the decision.
    pub(crate) fn admit_presigned(
        &self,
        method: &http::Method,
        request: &PresignRequest,
        url: &str,
    ) -> Result<(), Error> {
        let checked = self.check_presigned(method, request, url);
        if let Some(audit) = &self.settings.shared.audit {
            audit.write(presign_record(&audit.tenant, method, request, &checked));
        }
        checked.map(drop)
    }

    /// Parses the URL the plugin presigned and checks it: the expiry cap, the object asked
    /// for, the policy. Returns what the parser read and the rule that allowed it.
    fn check_presigned(
        &self,
        method: &http::Method,
        request: &PresignRequest,
        url: &str,
    ) -> Result<(S3Request, Grant), Error> {
        let refuse = |why: String| Error::Denied(Denial(format!("the presigned URL was refused: {why}")));
        let (parsed, expires) = parse_presigned(method, url, &self.settings.shared.connection.endpoint)
            .map_err(|e| refuse(e.to_string()))?;
        if expires > u64::from(self.settings.max_presign_seconds) {
            return Err(refuse(format!(
                "it lasts {expires} seconds, over the cap of {}",
                self.settings.max_presign_seconds
            )));
        }
        let object = &request.object;
        if parsed.bucket.as_deref() != Some(object.bucket.as_str())
            || parsed.key.as_deref() != Some(object.key.as_str())
        {
            return Err(refuse(format!("it is not for s3://{}/{}", object.bucket, object.key)));
        }
        let grant = self.settings.shared.policy.decide(&parsed).map_err(Error::Denied)?;
        Ok((parsed, grant))
    }
}

/// The audit record of a presigned URL: what was asked and the verdict, never the URL.
fn presign_record(
    tenant: &str,
    method: &http::Method,
    request: &PresignRequest,
    checked: &Result<(S3Request, Grant), Error>,
) -> AuditRecord {
    let decision = if checked.is_ok() { Decision::Allowed } else { Decision::Denied };
    let mut record = AuditRecord::new(tenant, Kind::Presign, decision);
    record.method = Some(method.to_string());
    record.bucket = Some(request.object.bucket.clone());
    record.key = Some(request.object.key.clone());
    match checked {
        Ok((parsed, grant)) => {
            record.access = Some(parsed.access.name().to_owned());
            record.action = Some(parsed.action.name().to_owned());
            record.rule = Some(grant.to_string());
        }
        Err(error) => record.reason = Some(error.to_string()),
    }
    record
}

/// The action a presigned URL for `method` grants: the host's one reading of the contract's
/// presign methods.
pub(crate) fn presign_action(method: PresignMethod) -> S3Action {
    match method {
        PresignMethod::Get => S3Action::GetObject,
        PresignMethod::Head => S3Action::HeadObject,
        PresignMethod::Put => S3Action::PutObject,
        PresignMethod::Delete => S3Action::DeleteObject,
    }
}

/// The presign method an HTTP method's name names (`GET`, `head`, ...), as the CLI and JSON
/// actions write it; the names are S3's ([`S3Action::presigned`]).
pub fn presign_method_named(name: &str) -> Option<PresignMethod> {
    let action = S3Action::presigned(name)?;
    [PresignMethod::Get, PresignMethod::Head, PresignMethod::Put, PresignMethod::Delete]
        .into_iter()
        .find(|method| presign_action(*method) == action)
}
