//! The `Policy` parameter of STS calls (AssumeRole, AssumeRoleWithWebIdentity): none, an inline
//! JSON policy, or the host's own policy turned into one when the request is made (so that it
//! follows the signing region's partition).

use crate::policy::{Policy, session_policy};

/// What a provider sends as the session policy.
#[derive(Clone, Default)]
pub(crate) enum StsPolicy {
    /// None: the role's own permissions.
    #[default]
    None,
    /// This JSON policy.
    Inline(String),
    /// The host's policy, as [`session_policy`] writes it.
    Host(Policy),
}

impl StsPolicy {
    /// The host's policy, checked now (it must fit STS's limit) so that a provider fails when it
    /// is built, not at its first refresh.
    pub(crate) fn host(policy: &Policy, region: &str) -> Result<Self, String> {
        session_policy(policy, s3_connector_rules::partition(region)).map_err(|e| e.to_string())?;
        Ok(StsPolicy::Host(policy.clone()))
    }

    /// The JSON to send for a request signed in `region`, if any.
    pub(crate) fn json(&self, region: &str) -> Result<Option<String>, String> {
        match self {
            StsPolicy::None => Ok(None),
            StsPolicy::Inline(json) => Ok(Some(json.clone())),
            StsPolicy::Host(policy) => session_policy(policy, s3_connector_rules::partition(region))
                .map(Some)
                .map_err(|e| e.to_string()),
        }
    }

    /// A line for Debug output: the policy's size or summary, never its text.
    pub(crate) fn describe(&self) -> String {
        match self {
            StsPolicy::None => "none".to_owned(),
            StsPolicy::Inline(json) => format!("inline ({} bytes)", json.len()),
            StsPolicy::Host(policy) => format!("the host's: {}", policy.summary()),
        }
    }
}
