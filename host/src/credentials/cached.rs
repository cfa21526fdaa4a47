//! A caching wrapper: credentials are fetched once, reused until shortly before they expire,
//! and refreshed by one caller while the others wait for its result (single-flight).

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use super::{AwsCredentials, CredentialsError, CredentialsFuture, CredentialsProvider};

/// How long before expiry credentials are refreshed when nothing else is configured. The SDKs
/// use a few minutes so that a request signed just before the refresh still arrives in time.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Caches another provider's credentials and refreshes them `margin` before they expire.
///
/// Credentials without an expiry are fetched once and kept. Concurrent calls that find the
/// cache stale wait for a single refresh instead of each asking the source (100 concurrent calls
/// cause one STS call). If a refresh fails while the cached credentials are still valid (inside
/// the margin, not yet expired), those are returned; otherwise the error names the provider and
/// the cause.
pub struct CachedProvider {
    inner: Arc<dyn CredentialsProvider>,
    margin: Duration,
    cache: RwLock<Option<AwsCredentials>>,
    refresh: tokio::sync::Mutex<()>,
}

impl CachedProvider {
    /// Caches `inner` with [`DEFAULT_REFRESH_MARGIN`].
    pub fn new(inner: Arc<dyn CredentialsProvider>) -> Self {
        Self::with_margin(inner, DEFAULT_REFRESH_MARGIN)
    }

    /// Caches `inner`, refreshing `margin` before expiry.
    pub fn with_margin(inner: Arc<dyn CredentialsProvider>, margin: Duration) -> Self {
        Self { inner, margin, cache: RwLock::new(None), refresh: tokio::sync::Mutex::new(()) }
    }

    /// The refresh margin.
    pub fn margin(&self) -> Duration {
        self.margin
    }

    /// The wrapped provider.
    pub fn inner(&self) -> &Arc<dyn CredentialsProvider> {
        &self.inner
    }

    fn fresh(&self, now: SystemTime) -> Option<AwsCredentials> {
        let cache = self.cache.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.as_ref().filter(|c| c.expires_at.is_none_or(|at| now + self.margin < at)).cloned()
    }

    fn still_valid(&self, now: SystemTime) -> Option<AwsCredentials> {
        let cache = self.cache.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.as_ref().filter(|c| c.expires_at.is_none_or(|at| now < at)).cloned()
    }

    async fn get(&self) -> Result<AwsCredentials, CredentialsError> {
        if let Some(credentials) = self.fresh(SystemTime::now()) {
            return Ok(credentials);
        }
        let _single_flight = self.refresh.lock().await;
        // Whoever held the lock before may have refreshed already.
        let now = SystemTime::now();
        if let Some(credentials) = self.fresh(now) {
            return Ok(credentials);
        }
        match self.inner.credentials().await {
            Ok(credentials) => {
                let now = SystemTime::now();
                if let Some(at) = credentials.expires_at.filter(|at| *at <= now) {
                    return Err(CredentialsError {
                        provider: self.inner.name(),
                        reason: format!(
                            "the credentials it returned expired {} s ago (at {}); check the system \
                             clock and what the provider reads",
                            now.duration_since(at).unwrap_or_default().as_secs(),
                            super::time::format_rfc3339(at)
                        ),
                    });
                }
                *self.cache.write().unwrap_or_else(|poisoned| poisoned.into_inner()) =
                    Some(credentials.clone());
                Ok(credentials)
            }
            Err(error) => match self.still_valid(now) {
                Some(credentials) => Ok(credentials),
                None => Err(error),
            },
        }
    }
}

impl fmt::Debug for CachedProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let expires_at = self
            .cache
            .read()
            .ok()
            .and_then(|c| c.as_ref().map(|c| c.expires_at.map(super::time::format_rfc3339)));
        f.debug_struct("CachedProvider")
            .field("inner", &self.inner)
            .field("margin", &self.margin)
            .field("cached_until", &expires_at)
            .finish()
    }
}

impl CredentialsProvider for CachedProvider {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.get())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::credentials::Secret;

    /// Counts calls and answers after a short delay, so that concurrent callers overlap.
    #[derive(Debug)]
    struct Counting {
        calls: AtomicUsize,
        lifetime: Option<Duration>,
        fail_after: Option<usize>,
    }

    impl Counting {
        fn new(lifetime: Option<Duration>) -> Self {
            Self { calls: AtomicUsize::new(0), lifetime, fail_after: None }
        }
    }

    impl CredentialsProvider for Counting {
        fn name(&self) -> &'static str {
            "counting"
        }

        fn credentials(&self) -> CredentialsFuture<'_> {
            Box::pin(async move {
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
                if self.fail_after.is_some_and(|limit| n > limit) {
                    return Err(CredentialsError { provider: "counting", reason: "source is down".into() });
                }
                Ok(AwsCredentials {
                    access_key_id: format!("AKID{n}"),
                    secret_access_key: Secret::new("secret"),
                    session_token: None,
                    expires_at: self.lifetime.map(|l| SystemTime::now() + l),
                })
            })
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_hundred_concurrent_calls_cause_one_refresh() {
        let counting = Arc::new(Counting::new(Some(Duration::from_secs(3600))));
        let cached = Arc::new(CachedProvider::new(counting.clone()));
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let cached = cached.clone();
                tokio::spawn(async move { cached.credentials().await.map(|c| c.access_key_id) })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), "AKID1");
        }
        assert_eq!(counting.calls.load(Ordering::SeqCst), 1);
        assert_eq!(cached.name(), "counting");
    }

    #[tokio::test]
    async fn credentials_inside_the_margin_are_refreshed() {
        let counting = Arc::new(Counting::new(Some(Duration::from_secs(30))));
        let cached = CachedProvider::with_margin(counting.clone(), Duration::from_secs(60));
        assert_eq!(cached.credentials().await.unwrap().access_key_id, "AKID1");
        assert_eq!(cached.credentials().await.unwrap().access_key_id, "AKID2");
        let cached = CachedProvider::with_margin(counting.clone(), Duration::from_secs(10));
        assert_eq!(cached.credentials().await.unwrap().access_key_id, "AKID3");
        assert_eq!(cached.credentials().await.unwrap().access_key_id, "AKID3");
        assert_eq!(counting.calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn credentials_without_expiry_are_fetched_once() {
        let counting = Arc::new(Counting::new(None));
        let cached = CachedProvider::new(counting.clone());
        for _ in 0..5 {
            cached.credentials().await.unwrap();
        }
        assert_eq!(counting.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_valid_credentials_and_reports_expired_ones() {
        let counting =
            Arc::new(Counting { fail_after: Some(1), ..Counting::new(Some(Duration::from_secs(30))) });
        let cached = CachedProvider::with_margin(counting.clone(), Duration::from_secs(60));
        assert_eq!(cached.credentials().await.unwrap().access_key_id, "AKID1");
        // Inside the margin: the refresh fails, the still valid credentials are kept.
        assert_eq!(cached.credentials().await.unwrap().access_key_id, "AKID1");
        assert_eq!(counting.calls.load(Ordering::SeqCst), 2);

        let down = Arc::new(Counting { fail_after: Some(0), ..Counting::new(None) });
        let error = CachedProvider::new(down).credentials().await.unwrap_err().to_string();
        assert_eq!(error, "no credentials from counting: source is down");

        let stale = Arc::new(Counting::new(Some(Duration::ZERO)));
        let error = CachedProvider::new(stale).credentials().await.unwrap_err().to_string();
        assert!(
            error.starts_with("no credentials from counting: the credentials it returned expired"),
            "{error}"
        );
    }
}
