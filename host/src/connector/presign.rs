//! Presigned URLs through the typed API: the plugin asks the host's presigner
//! (`runtime/presigning_import.rs`), which checks the expiry cap and the policy, signs and
//! records the decision.

use crate::error::Error;
use crate::policy::S3Action;
use crate::types::{PresignMethod, PresignRequest};

use super::{Connector, presign_action};

impl Connector {
    /// A presigned URL for one method on one object, signed by the host once its expiry cap and
    /// policy allow it; a refusal is [`Error::Denied`] and has an audit record.
    pub async fn presign(&self, request: PresignRequest) -> Result<String, Error> {
        self.call(async |client, store| client.call_presign(store, &request).await).await
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
