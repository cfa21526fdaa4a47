//! The credential-refresh metric, counted without reaching into any provider.
//!
//! A tenant's credentials come from static keys, a profile, the default chain or an assumed
//! role, and each caches in its own way (`CachedProvider` sits at different depths). So the
//! tenant's provider is wrapped once, at the top, and a refresh is what a caller can see: the
//! credentials handed out changed (another key id or another expiry; the first fetch counts),
//! or none could be had. Only the key id and the expiry are compared and kept, never a secret.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use super::metrics::{Metrics, RefreshLabels};
use s3_connector_host::credentials::{AwsCredentials, CredentialsFuture, CredentialsProvider};

/// What tells one set of credentials from the next, with nothing secret in it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Identity {
    access_key_id: String,
    expires_at: Option<SystemTime>,
}

impl Identity {
    fn of(credentials: &AwsCredentials) -> Self {
        Self { access_key_id: credentials.access_key_id.clone(), expires_at: credentials.expires_at }
    }
}

/// A tenant's credentials provider whose refreshes are counted in
/// `s3_connector_credential_refreshes_total{tenant, result}`.
#[derive(Debug)]
pub struct RefreshCounted {
    inner: Arc<dyn CredentialsProvider>,
    tenant: String,
    metrics: Arc<Metrics>,
    last: Mutex<Option<Identity>>,
}

impl RefreshCounted {
    /// Counts the refreshes of `inner`, `tenant`'s provider, in `metrics`.
    pub fn new(inner: Arc<dyn CredentialsProvider>, tenant: &str, metrics: Arc<Metrics>) -> Self {
        Self { inner, tenant: tenant.to_owned(), metrics, last: Mutex::new(None) }
    }

    fn count(&self, result: &str) {
        let labels = RefreshLabels { tenant: self.tenant.clone(), result: result.to_owned() };
        self.metrics.credential_refreshes.get_or_create(&labels).inc();
    }
}

impl CredentialsProvider for RefreshCounted {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move {
            let fetched = self.inner.credentials().await;
            match &fetched {
                Ok(credentials) => {
                    let now = Identity::of(credentials);
                    let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
                    if last.as_ref() != Some(&now) {
                        *last = Some(now);
                        drop(last);
                        self.count("ok");
                    }
                }
                Err(_) => self.count("error"),
            }
            fetched
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::time::Duration;

    use super::*;
    use s3_connector_host::credentials::{CredentialsError, Secret};

    /// Hands out the answers it was given, in turn.
    #[derive(Debug)]
    struct Scripted(Mutex<VecDeque<Result<AwsCredentials, CredentialsError>>>);

    impl CredentialsProvider for Scripted {
        fn name(&self) -> &'static str {
            "scripted"
        }

        fn credentials(&self) -> CredentialsFuture<'_> {
            let next = self.0.lock().unwrap().pop_front().expect("an answer left");
            Box::pin(async move { next })
        }
    }

    fn keys(id: &str, expires_in: Option<u64>) -> Result<AwsCredentials, CredentialsError> {
        Ok(AwsCredentials {
            access_key_id: id.to_owned(),
            secret_access_key: Secret::new("sentinel-secret"),
            session_token: None,
            expires_at: expires_in.map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s)),
        })
    }

    fn count(metrics: &Metrics, result: &str) -> u64 {
        let labels = RefreshLabels { tenant: "team".to_owned(), result: result.to_owned() };
        metrics.credential_refreshes.get_or_create(&labels).get()
    }

    #[tokio::test]
    async fn a_refresh_is_new_credentials_or_none_and_the_same_ones_again_are_not() {
        let answers = [
            keys("AKIDONE", Some(100)),
            keys("AKIDONE", Some(100)),
            keys("AKIDONE", Some(200)),
            Err(CredentialsError { provider: "scripted", reason: "STS refused".to_owned() }),
            keys("AKIDTWO", Some(200)),
            keys("AKIDTWO", Some(200)),
        ];
        let metrics = Arc::new(Metrics::default());
        let provider =
            RefreshCounted::new(Arc::new(Scripted(Mutex::new(answers.into()))), "team", metrics.clone());
        for _ in 0..6 {
            let _ = provider.credentials().await;
        }
        assert_eq!((count(&metrics, "ok"), count(&metrics, "error")), (3, 1));
        let text = metrics.encode();
        assert!(
            text.contains(r#"s3_connector_credential_refreshes_total{tenant="team",result="ok"} 3"#),
            "{text}"
        );
        assert!(!text.contains("sentinel-secret"));
    }
}
