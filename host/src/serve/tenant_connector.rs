//! The one place a tenant's [`Connector`] is built: the server's connection and settings, the
//! tenant's policy, credentials source and name, and the audit sink that also feeds the
//! metrics. Kept in one function so that a change in how connectors are constructed touches
//! `serve` here and nowhere else.

use std::sync::Arc;

use super::metrics::{Metrics, MetricsSink};
use super::tenants_file::{CredentialsSource, TenantSpec};
use crate::audit::AuditSink;
use crate::connector::Connector;
use crate::credentials::{
    AssumeRoleProvider, CachedProvider, CredentialsError, CredentialsProvider, ProfileProvider,
    StaticCredentials, default_chain,
};
use crate::error::Error;
use crate::settings::Connection;

/// The environment credential providers read (`AWS_PROFILE`, `AWS_SHARED_CREDENTIALS_FILE`,
/// `AWS_ENDPOINT_URL_STS`, ...), passed in rather than read globally.
pub type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What every tenant's connector shares: where S3 is and how the server calls it.
#[derive(Clone)]
pub struct TenantBase {
    /// The endpoint, region, addressing and network settings.
    pub connection: Connection,
    /// Tries per request ([`Connector::with_max_attempts`]).
    pub max_attempts: u32,
    /// Whether JSON actions may carry their own keys ([`Connector::with_request_credentials`]).
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
    let sink: Arc<dyn AuditSink> = Arc::new(MetricsSink::new(metrics.clone(), base.audit.clone()));
    let connector = Connector::new(base.connection.clone(), spec.policy.clone(), credentials)
        .map_err(|e: Error| e.to_string())?
        .with_tenant(spec.name.clone())
        .with_max_attempts(base.max_attempts)
        .with_request_credentials(base.allow_request_credentials)
        .with_audit(sink);
    Ok(connector)
}

/// `connector` (the `--token` shorthand's, built by the CLI) with its audit records also
/// counted in `metrics`.
pub fn with_metrics(connector: Connector, metrics: &Arc<Metrics>) -> Connector {
    let then = connector.shared.audit.as_ref().map(|audit| audit.sink.clone());
    connector.with_audit(Arc::new(MetricsSink::new(metrics.clone(), then)))
}

fn credentials(
    base: &TenantBase,
    spec: &TenantSpec,
) -> Result<Arc<dyn CredentialsProvider>, CredentialsError> {
    let lookup = base.lookup.clone();
    let lookup = move |name: &str| lookup(name);
    Ok(match &spec.credentials {
        CredentialsSource::Static { access_key_id, secret_access_key, session_token } => Arc::new(
            StaticCredentials::new(access_key_id.clone(), secret_access_key.clone(), session_token.clone()),
        ),
        CredentialsSource::Profile { profile } => profile_provider(&lookup, profile)?,
        CredentialsSource::DefaultChain => Arc::new(default_chain(lookup, None)?),
        CredentialsSource::AssumeRole { role_arn, profile, external_id, session_policy } => {
            let source: Arc<dyn CredentialsProvider> = match profile {
                Some(profile) => profile_provider(&lookup, profile)?,
                None => Arc::new(default_chain(&lookup, None)?),
            };
            let network = &base.connection.network;
            let mut role = AssumeRoleProvider::new(source, role_arn)?
                .with_region(&base.connection.region)
                .with_trust(network.trust.clone())
                .with_proxies(network.proxy.clone());
            if let Some(url) = lookup("AWS_ENDPOINT_URL_STS").filter(|v| !v.is_empty()) {
                role = role.with_endpoint(&url)?;
            }
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
