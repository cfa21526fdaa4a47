//! When the default chain falls through to the EC2 instance metadata service, the CLI asks it
//! once before the command runs. Off EC2, IMDS's own failure used to be the only error (about
//! IMDS alone, reported as access denied, exit 1), though the user most likely forgot to give
//! keys at all; here that failure becomes a usage error (exit 2) naming every source tried.
//! The probe is IMDS's first request, bounded as the SDKs bound it (1 s, one attempt), and
//! the credentials it gets are cached by the chain for the command itself.

use s3_connector_host::credentials::{ChainProvider, CredentialsProvider};
use s3_connector_host::error::Error;

/// Asks `chain` for credentials once when its source is IMDS; a failure is a usage error that
/// names every source the CLI looked at (`profile`: the profile the chain read).
pub async fn check(chain: &ChainProvider, profile: &str) -> Result<(), Error> {
    if chain.source() != "imds" {
        return Ok(());
    }
    let Err(failure) = chain.credentials().await else { return Ok(()) };
    Err(Error::Usage(format!(
        "no credentials found. Tried, in order: --access-key-id/--secret-access-key (not given); \
         the [credentials] or [roles_anywhere] table of --config (none); AWS_ACCESS_KEY_ID/\
         AWS_SECRET_ACCESS_KEY (not set); the profile `{profile}` in the shared files (no \
         credentials); AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN (not set); \
         AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/_FULL_URI (not set); {} ({}). Give keys by one of \
         these, or set AWS_EC2_METADATA_DISABLED=true off EC2",
        chain.description(),
        failure.reason
    )))
}
