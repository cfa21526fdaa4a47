//! Anonymous access: no credentials at all, so that the plugin sends its requests unsigned, as
//! the aws CLI's `--no-sign-request` does (public buckets, open data sets). The host's policy
//! still checks every request; only the signature is left out.

use super::{CredentialsError, CredentialsFuture, CredentialsProvider};

/// The provider of no credentials: requests go unsigned and nothing can be presigned.
#[derive(Debug, Clone, Copy, Default)]
pub struct Anonymous;

impl CredentialsProvider for Anonymous {
    fn name(&self) -> &'static str {
        "anonymous"
    }

    fn credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async {
            Err(CredentialsError {
                provider: "anonymous",
                reason: "anonymous access (--no-sign-request) has no keys; requests go unsigned".to_owned(),
            })
        })
    }

    fn signs(&self) -> bool {
        false
    }
}
