//! The signing keys the host derives from its credentials, so that no secret access key ever
//! enters the sandbox (SECURITY.md, "Derived signing keys").
//!
//! A key is derived once per credentials, day and region and kept: deriving costs four HMACs,
//! and a connector signs thousands of requests a day with the same few keys. The cache is small
//! and bounded; a key of rotated credentials or of a past day simply falls out of it.

use std::sync::Mutex;

use s3_connector_rules::sigv4::{SERVICE, SigningIdentity, SigningKey};

use super::AwsCredentials;
use crate::secrets::Secret;

/// How many derived keys are kept: a few credentials (request-scoped ones, a rotation) times two
/// days around midnight.
const CAPACITY: usize = 8;

/// The derived keys of one connector's credentials.
#[derive(Default)]
pub struct SigningKeys {
    entries: Mutex<Vec<Entry>>,
}

struct Entry {
    access_key_id: String,
    secret: Secret,
    date: String,
    region: String,
    key: SigningKey,
}

impl SigningKeys {
    /// The signing identity of `credentials` for `date` (`YYYYMMDD`) and `region`: the key from
    /// the cache, or derived and kept. The caller has checked that `date` is current.
    pub fn identity(&self, credentials: &AwsCredentials, date: &str, region: &str) -> SigningIdentity {
        let key = self.key(credentials, date, region);
        SigningIdentity {
            access_key_id: credentials.access_key_id.clone(),
            key,
            date: date.to_owned(),
            region: region.to_owned(),
            session_token: credentials.session_token.as_ref().map(|t| t.expose().to_owned()),
        }
    }

    fn key(&self, credentials: &AwsCredentials, date: &str, region: &str) -> SigningKey {
        let matches = |entry: &Entry| {
            entry.access_key_id == credentials.access_key_id
                && entry.secret == credentials.secret_access_key
                && entry.date == date
                && entry.region == region
        };
        // A poisoned lock only means another thread panicked mid-insert; the entries are whole.
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(entry) = entries.iter().find(|entry| matches(entry)) {
            return entry.key.clone();
        }
        let key = SigningKey::derive(credentials.secret_access_key.expose(), date, region, SERVICE);
        if entries.len() == CAPACITY {
            entries.remove(0);
        }
        entries.push(Entry {
            access_key_id: credentials.access_key_id.clone(),
            secret: credentials.secret_access_key.clone(),
            date: date.to_owned(),
            region: region.to_owned(),
            key: key.clone(),
        });
        key
    }
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cached = self.entries.lock().map_or(0, |entries| entries.len());
        f.debug_struct("SigningKeys").field("cached", &cached).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(id: &str, secret: &str) -> AwsCredentials {
        AwsCredentials {
            access_key_id: id.to_owned(),
            secret_access_key: Secret::new(secret),
            session_token: Some(Secret::new("token")),
            expires_at: None,
        }
    }

    #[test]
    fn keys_are_derived_per_credentials_day_and_region_and_kept_within_bounds() {
        let keys = SigningKeys::default();
        let a = credentials("AKIDA", "secret-a");
        let identity = keys.identity(&a, "20261207", "eu-west-1");
        assert_eq!(identity.key, SigningKey::derive("secret-a", "20261207", "eu-west-1", "s3"));
        assert_eq!(identity.session_token.as_deref(), Some("token"));
        // Another secret under the same key id (a rotation), another day, another region.
        let rotated = credentials("AKIDA", "secret-b");
        assert_ne!(keys.identity(&rotated, "20261207", "eu-west-1").key, identity.key);
        assert_ne!(keys.identity(&a, "20261208", "eu-west-1").key, identity.key);
        assert_ne!(keys.identity(&a, "20261207", "us-east-1").key, identity.key);
        for day in 10..30 {
            keys.identity(&a, &format!("202612{day}"), "eu-west-1");
        }
        assert_eq!(keys.entries.lock().unwrap().len(), CAPACITY);
        let debug = format!("{keys:?}");
        assert!(!debug.contains("secret-a") && debug.contains("cached: 8"), "{debug}");
    }
}
