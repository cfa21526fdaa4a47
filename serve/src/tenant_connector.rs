//! The one place a tenant's [`Connector`] is built: the server's connection and settings, the
//! tenant's policy, credentials source and name, and the audit sink that also feeds the
//! metrics. Kept in one function so that a change in how connectors are constructed touches
//! `serve` here and nowhere else.

use std::sync::Arc;

use super::credential_refreshes::RefreshCounted;
use super::metrics::{Metrics, MetricsSink};
use super::tenants_file::{CredentialsSource, TenantSpec};
use s3_connector_host::audit::AuditSink;
use s3_connector_host::connector::Connector;
#[cfg(feature = "aws-credentials")]
use s3_connector_host::credentials::{
    AssumeRoleProvider, CachedProvider, ProfileProvider, RoleSessionSettings, SessionPolicySettings,
    default_chain,
};
use s3_connector_host::credentials::{CredentialsError, CredentialsProvider, StaticCredentials};
use s3_connector_host::documents::FsDocumentStore;
use s3_connector_host::error::Error;
use s3_connector_host::settings::Connection;

/// The environment credential providers read (`AWS_PROFILE`, `AWS_SHARED_CREDENTIALS_FILE`,
/// `AWS_ENDPOINT_URL_STS`, ...), passed in rather than read globally.
pub type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What every tenant's connector shares: where S3 is and how the server calls it.
#[derive(Clone)]
pub struct TenantBase {
    /// The endpoint, region, addressing and network settings.
    pub connection: Connection,
    /// Tries per request ([`s3_connector_host::ConnectorBuilder::max_attempts`]).
    pub max_attempts: u32,
    /// Whether downloads verify response checksums
    /// ([`s3_connector_host::ConnectorBuilder::response_checksum_validation`]).
    pub response_checksum_validation: s3_connector_host::ResponseChecksumValidation,
    /// Whether JSON actions may carry their own keys
    /// ([`s3_connector_host::ConnectorBuilder::request_credentials`]).
    pub allow_request_credentials: bool,
    /// The operator's audit sink (`--audit`), if any.
    pub audit: Option<Arc<dyn AuditSink>>,
    /// The environment.
    pub lookup: Lookup,
}

impl std::fmt::Debug for TenantBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantBase").field("connection", &self.connection).finish_non_exhaustive()
    }
}

/// Builds `spec`'s connector on `base`, its audit records counted in `metrics`.
pub fn build(base: &TenantBase, spec: &TenantSpec, metrics: &Arc<Metrics>) -> Result<Connector, String> {
    let credentials = credentials(base, spec).map_err(|e| e.to_string())?;
    let credentials = Arc::new(RefreshCounted::new(credentials, &spec.name, metrics.clone()));
    let sink: Arc<dyn AuditSink> = Arc::new(MetricsSink::new(metrics.clone(), base.audit.clone()));
    let mut builder = Connector::builder(base.connection.clone(), spec.policy.clone(), credentials)
        .tenant(spec.name.clone())
        .max_attempts(base.max_attempts)
        .response_checksum_validation(base.response_checksum_validation)
        .request_credentials(base.allow_request_credentials)
        .audit(sink);
    if let Some(dir) = &spec.documents {
        let store = FsDocumentStore::new(dir).map_err(|e| format!("documents = {}: {e}", dir.display()))?;
        builder = builder.documents(Arc::new(store));
    }
    builder.build().map_err(|e: Error| e.to_string())
}

/// `connector` (the `--token` shorthand's, built by the CLI) with its audit records and
/// credential refreshes also counted in `metrics`.
pub fn with_metrics(connector: Connector, metrics: &Arc<Metrics>) -> Connector {
    let tenant = connector.tenant().to_owned();
    connector
        .with_audit_sink(|then| Arc::new(MetricsSink::new(metrics.clone(), then)))
        .with_credentials(|credentials| Arc::new(RefreshCounted::new(credentials, &tenant, metrics.clone())))
}

// Without the providers only static keys remain, and `base` (the environment, the network) is
// not needed.
#[cfg_attr(not(feature = "aws-credentials"), allow(unused_variables))]
fn credentials(
    base: &TenantBase,
    spec: &TenantSpec,
) -> Result<Arc<dyn CredentialsProvider>, CredentialsError> {
    #[cfg(feature = "aws-credentials")]
    let lookup = {
        let lookup = base.lookup.clone();
        move |name: &str| lookup(name)
    };
    Ok(match &spec.credentials {
        CredentialsSource::Static { access_key_id, secret_access_key, session_token } => Arc::new(
            StaticCredentials::new(access_key_id.clone(), secret_access_key.clone(), session_token.clone()),
        ),
        #[cfg(not(feature = "aws-credentials"))]
        CredentialsSource::Profile { .. }
        | CredentialsSource::DefaultChain
        | CredentialsSource::AssumeRole { .. } => {
            return Err(CredentialsError {
                provider: "tenants",
                reason: format!(
                    "tenant {}'s credentials need a build with the feature aws-credentials; give it static keys",
                    spec.name
                ),
            });
        }
        #[cfg(feature = "aws-credentials")]
        CredentialsSource::Profile { profile } => profile_provider(&lookup, profile)?,
        #[cfg(feature = "aws-credentials")]
        CredentialsSource::DefaultChain => Arc::new(default_chain(lookup, None)?),
        #[cfg(feature = "aws-credentials")]
        CredentialsSource::AssumeRole { role_arn, profile, external_id, session_policy } => {
            let source: Arc<dyn CredentialsProvider> = match profile {
                Some(profile) => profile_provider(&lookup, profile)?,
                None => Arc::new(default_chain(&lookup, None)?),
            };
            let mut role =
                AssumeRoleProvider::new(source, role_arn)?.for_connection(&base.connection, &lookup)?;
            if let Some(id) = external_id {
                role = role.with_external_id(id.clone());
            }
            if *session_policy {
                role = role.with_session_policy(&spec.policy)?;
            }
            Arc::new(CachedProvider::new(Arc::new(role)))
        }
    })
}

#[cfg(feature = "aws-credentials")]
fn profile_provider(
    lookup: &dyn Fn(&str) -> Option<String>,
    profile: &str,
) -> Result<Arc<dyn CredentialsProvider>, CredentialsError> {
    match ProfileProvider::load(lookup, Some(profile))? {
        Some(provider) => Ok(Arc::new(CachedProvider::new(Arc::new(provider)))),
        None => Err(CredentialsError {
            provider: "profile",
            reason: format!("profile {profile:?} configures no credentials"),
        }),
    }
}
