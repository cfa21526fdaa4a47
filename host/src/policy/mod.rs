//! The host's policy: which buckets, key prefixes and access classes the plugin may use.
//!
//! A policy is data (a list of [`Rule`]s) and a pure check. The check runs on every outgoing
//! request, against what [`s3_address::parse`] reads from the request itself.

pub(crate) mod config;
pub mod dot_segments;
pub mod s3_address;
pub mod session_policy;

use std::fmt;

pub use config::{AllowTable, PolicyConfigError, parse_allow};
use dot_segments::Reading;
pub use s3_address::{AddressError, S3Request};
pub use session_policy::{MAX_SESSION_POLICY_CHARS, SessionPolicyError, session_policy};

pub use s3_connector_rules::{Access, S3Action};

fn bit(access: Access) -> u8 {
    1 << (access as u8)
}

/// A set of access classes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AccessSet(u8);

impl AccessSet {
    /// `read`, `write`, `delete`, `list`: what `--allow BUCKET` grants without `=ACCESS`.
    pub const OBJECTS: AccessSet = AccessSet(0b01111);
    /// All five access classes.
    pub const ALL: AccessSet = AccessSet(0b11111);

    /// The set of the given access classes.
    pub fn of(classes: impl IntoIterator<Item = Access>) -> Self {
        AccessSet(classes.into_iter().fold(0, |bits, access| bits | bit(access)))
    }

    /// Whether `access` is in the set.
    pub fn contains(self, access: Access) -> bool {
        self.0 & bit(access) != 0
    }
}

impl fmt::Debug for AccessSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string())
    }
}

impl fmt::Display for AccessSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> =
            Access::ALL.into_iter().filter(|access| self.contains(*access)).map(Access::name).collect();
        f.write_str(&names.join(","))
    }
}

/// One grant: a bucket (or every bucket), an optional key prefix, and access classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The bucket, or `None` for every bucket (`*`).
    pub bucket: Option<String>,
    /// Keys must start with this prefix; listings must ask for a prefix that starts with it.
    pub prefix: Option<String>,
    /// The access classes granted.
    pub access: AccessSet,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.bucket.as_deref().unwrap_or("*"))?;
        if let Some(prefix) = &self.prefix {
            write!(f, "/{prefix}")?;
        }
        write!(f, "={}", self.access)
    }
}

impl Rule {
    fn covers_bucket(&self, bucket: &str) -> bool {
        self.bucket.as_deref().is_none_or(|b| b == bucket)
    }

    fn covers_key(&self, key: &str) -> bool {
        self.prefix.as_deref().is_none_or(|p| key.starts_with(p))
    }
}

/// A refused request: what was asked, and why no rule allows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("denied by the host's policy: {0}")]
pub struct Denial(pub String);

/// The rules that allowed a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The first rule that allows the request's target.
    pub rule: Rule,
    /// For copies, the first rule that allows reading the source.
    pub source_rule: Option<Rule>,
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.rule)?;
        if let Some(source) = &self.source_rule {
            write!(f, " (copy source: {source})")?;
        }
        Ok(())
    }
}

/// The policy: a request is allowed when one rule allows all of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    rules: Vec<Rule>,
}

impl Policy {
    /// A policy of these rules. No rules allow nothing.
    pub fn new(rules: Vec<Rule>) -> Self {
        Self { rules }
    }

    /// Every bucket, every access class: what the CLI uses when no policy is given.
    pub fn allow_all() -> Self {
        Self::new(vec![Rule { bucket: None, prefix: None, access: AccessSet::ALL }])
    }

    /// The rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Checks a parsed request: the target and, for copies, the source.
    pub fn check(&self, request: &S3Request) -> Result<(), Denial> {
        self.decide(request).map(drop)
    }

    /// Like [`Policy::check`], and says which rules allowed the request: the audit log records
    /// them.
    pub fn decide(&self, request: &S3Request) -> Result<Grant, Denial> {
        let rule = self.check_object(request)?.clone();
        let source_rule = match &request.copy_source {
            Some((bucket, key)) => {
                let source = S3Request {
                    action: request.action,
                    access: Access::Read,
                    bucket: Some(bucket.clone()),
                    key: Some(key.clone()),
                    list_prefix: None,
                    copy_source: None,
                };
                let rule = self
                    .check_object(&source)
                    .map_err(|d| Denial(format!("the copy source of {}: {}", request.action, d.0)))?;
                Some(rule.clone())
            }
            None => None,
        };
        Ok(Grant { rule, source_rule })
    }

    /// Checks the literal target, then every other reading of its key by a server or proxy
    /// that resolves dot segments ([`dot_segments`]): all of them must be allowed.
    fn check_object(&self, request: &S3Request) -> Result<&Rule, Denial> {
        let rule = self.check_target(request)?;
        let (Some(bucket), Some(key)) = (&request.bucket, &request.key) else {
            return Ok(rule);
        };
        let literal = format!("{} s3://{bucket}/{key}", request.action);
        for reading in dot_segments::other_readings(bucket, key) {
            let (bucket, key) = match reading {
                Reading::Object { bucket, key } => (bucket, key),
                Reading::NoObject => {
                    return Err(Denial(format!(
                        "{literal}: its dot segments climb out of the bucket on a server or proxy that \
                         resolves them"
                    )));
                }
            };
            let as_read =
                S3Request { bucket: Some(bucket.clone()), key: Some(key.clone()), ..request.clone() };
            self.check_target(&as_read).map_err(|denial| {
                Denial(format!(
                    "{literal} reads as s3://{bucket}/{key} on a server or proxy that resolves dot \
                     segments: {}",
                    denial.0
                ))
            })?;
        }
        Ok(rule)
    }

    fn check_target(&self, request: &S3Request) -> Result<&Rule, Denial> {
        let needed = request.access;
        let allowed = self.rules.iter().find(|rule| {
            if !rule.access.contains(needed) {
                return false;
            }
            match (&request.bucket, &request.key, &request.list_prefix) {
                // Service level (ListBuckets) reveals every bucket name: only `*` rules allow it.
                (None, _, _) => rule.bucket.is_none() && rule.prefix.is_none(),
                (Some(bucket), Some(key), _) => rule.covers_bucket(bucket) && rule.covers_key(key),
                (Some(bucket), None, Some(list_prefix)) => {
                    rule.covers_bucket(bucket) && rule.covers_key(list_prefix)
                }
                (Some(bucket), None, None) => {
                    rule.covers_bucket(bucket) && (rule.prefix.is_none() || !request.needs_whole_bucket())
                }
            }
        });
        if let Some(rule) = allowed {
            return Ok(rule);
        }
        Err(Denial(format!(
            "{} {} needs '{}'{}; allowed: {}",
            request.action,
            describe(request),
            needed.name(),
            needs_whole_bucket(request),
            self.summary()
        )))
    }

    /// Checks what the plugin asks credentials for, before any request exists.
    pub fn check_scope(&self, bucket: Option<&str>, access: Access) -> Result<(), Denial> {
        let allowed = self.rules.iter().any(|rule| {
            rule.access.contains(access)
                && match bucket {
                    Some(bucket) => rule.covers_bucket(bucket),
                    None => rule.bucket.is_none(),
                }
        });
        if allowed {
            return Ok(());
        }
        let target = bucket.map_or_else(|| "the whole service".to_owned(), |b| format!("s3://{b}"));
        Err(Denial(format!(
            "credentials for '{}' on {target} are not granted; allowed: {}",
            access.name(),
            self.summary()
        )))
    }

    /// The rules in `--allow` syntax, for messages.
    pub fn summary(&self) -> String {
        if self.rules.is_empty() {
            return "nothing".to_owned();
        }
        self.rules.iter().map(Rule::to_string).collect::<Vec<_>>().join(" ")
    }
}

fn describe(request: &S3Request) -> String {
    match (&request.bucket, &request.key, &request.list_prefix) {
        (None, _, _) => "of every bucket".to_owned(),
        (Some(b), Some(k), _) => format!("s3://{b}/{k}"),
        (Some(b), None, Some(p)) if !p.is_empty() => format!("s3://{b}/{p}*"),
        (Some(b), None, _) => format!("s3://{b}"),
    }
}

fn needs_whole_bucket(request: &S3Request) -> &'static str {
    match &request.bucket {
        None => " on every bucket (*)",
        Some(_) if request.needs_whole_bucket() => " on the whole bucket",
        Some(_) => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(
        action: S3Action,
        bucket: Option<&str>,
        key: Option<&str>,
        list_prefix: Option<&str>,
    ) -> S3Request {
        S3Request {
            action,
            access: action.access(),
            bucket: bucket.map(Into::into),
            key: key.map(Into::into),
            list_prefix: list_prefix.map(Into::into),
            copy_source: None,
        }
    }

    fn policy(flags: &[&str]) -> Policy {
        Policy::new(flags.iter().map(|f| parse_allow(f).unwrap()).collect())
    }

    #[test]
    fn rules_allow_exactly_what_they_name() {
        let p = policy(&["photos/in/=read,write,list", "logs=read", "*=list"]);
        let table: &[(S3Request, bool)] = &[
            (request(S3Action::GetObject, Some("photos"), Some("in/a.jpg"), None), true),
            (request(S3Action::PutObject, Some("photos"), Some("in/a.jpg"), None), true),
            (request(S3Action::GetObject, Some("photos"), Some("out/a.jpg"), None), false),
            (request(S3Action::GetObject, Some("photos"), Some("in"), None), false),
            (request(S3Action::DeleteObject, Some("photos"), Some("in/a.jpg"), None), false),
            (request(S3Action::ListObjectsV2, Some("photos"), None, Some("in/sub/")), true),
            // The `*=list` rule lists any prefix of any bucket.
            (request(S3Action::ListObjectsV2, Some("photos"), None, Some("")), true),
            (request(S3Action::GetObject, Some("logs"), Some("any/key"), None), true),
            (request(S3Action::PutObject, Some("logs"), Some("any/key"), None), false),
            (request(S3Action::GetObject, Some("other"), Some("k"), None), false),
            (request(S3Action::ListBuckets, None, None, None), true),
            (request(S3Action::CreateBucket, Some("photos"), None, None), false),
        ];
        for (req, allowed) in table {
            assert_eq!(p.check(req).is_ok(), *allowed, "{req:?}");
        }
        // The first rule that allows a request is the one named.
        let grant =
            p.decide(&request(S3Action::ListObjectsV2, Some("photos"), None, Some("in/sub/"))).unwrap();
        assert_eq!(grant.to_string(), "photos/in/=read,write,list");
        let grant = p.decide(&request(S3Action::ListObjectsV2, Some("photos"), None, Some(""))).unwrap();
        assert_eq!(grant.to_string(), "*=list");
    }

    #[test]
    fn prefix_rules_do_not_grant_whole_bucket_operations() {
        // The flag syntax refuses admin with a prefix; a rule built in code can still say it.
        let rule = Rule { bucket: Some("bkt".into()), prefix: Some("in/".into()), access: AccessSet::ALL };
        let p = Policy::new(vec![rule]);
        assert!(p.check(&request(S3Action::ListObjectsV2, Some("bkt"), None, Some(""))).is_err());
        assert!(p.check(&request(S3Action::CreateBucket, Some("bkt"), None, None)).is_err());
        assert!(p.check(&request(S3Action::DeleteObjects, Some("bkt"), None, None)).is_err());
        assert!(p.check(&request(S3Action::ListBuckets, None, None, None)).is_err());
        let whole = policy(&["bkt=delete,admin"]);
        assert!(whole.check(&request(S3Action::DeleteObjects, Some("bkt"), None, None)).is_ok());
        assert!(whole.check(&request(S3Action::CreateBucket, Some("bkt"), None, None)).is_ok());
    }

    #[test]
    fn copies_need_read_on_the_source() {
        let p = policy(&["dst=write", "src/pub/=read"]);
        let mut copy = request(S3Action::PutObject, Some("dst"), Some("k"), None);
        copy.copy_source = Some(("src".into(), "pub/x".into()));
        assert!(p.check(&copy).is_ok());
        assert_eq!(p.decide(&copy).unwrap().to_string(), "dst=write (copy source: src/pub/=read)");
        copy.copy_source = Some(("src".into(), "private/x".into()));
        let denial = p.check(&copy).unwrap_err().to_string();
        assert!(denial.contains("copy source") && denial.contains("s3://src/private/x"), "{denial}");
    }

    #[test]
    fn keys_cannot_climb_out_of_their_prefix_with_dot_segments() {
        let p = policy(&["photos/in/=read,write", "dst=write"]);
        let table: &[(&str, Option<&str>)] = &[
            ("in/a/../b.jpg", None),
            ("in/./b.jpg", None),
            ("in/../out/x", Some("reads as s3://photos/out/x")),
            ("in/../../other/k", Some("reads as s3://other/k")),
            ("in//../x", Some("reads as s3://photos/x")),
            ("in/../../../etc/passwd", Some("climb out of the bucket")),
        ];
        for (key, denied) in table {
            let result = p.check(&request(S3Action::GetObject, Some("photos"), Some(key), None));
            match denied {
                None => assert!(result.is_ok(), "{key}: {result:?}"),
                Some(fragment) => {
                    let denial = result.expect_err(key).to_string();
                    assert!(denial.contains(fragment), "{key}: {denial}");
                }
            }
        }
        // Copy sources too.
        let mut copy = request(S3Action::PutObject, Some("dst"), Some("k"), None);
        copy.copy_source = Some(("photos".into(), "in/../../secret/k".into()));
        let denial = p.check(&copy).unwrap_err().to_string();
        assert!(denial.contains("copy source") && denial.contains("reads as s3://secret/k"), "{denial}");
        // Under a `*` rule every reading is allowed, and keys stay literal.
        assert!(
            Policy::allow_all().check(&request(S3Action::GetObject, Some("b"), Some("x/../y"), None)).is_ok()
        );
    }

    #[test]
    fn denials_say_what_and_what_is_allowed() {
        let p = policy(&["bkt/in/=read"]);
        let denial =
            p.check(&request(S3Action::PutObject, Some("bkt"), Some("in/x"), None)).unwrap_err().to_string();
        assert_eq!(
            denial,
            "denied by the host's policy: PutObject s3://bkt/in/x needs 'write'; allowed: bkt/in/=read"
        );
        assert_eq!(Policy::new(vec![]).summary(), "nothing");
    }

    #[test]
    fn scopes_are_checked_before_credentials_are_handed_out() {
        let p = policy(&["bkt=read"]);
        assert!(p.check_scope(Some("bkt"), Access::Read).is_ok());
        assert!(p.check_scope(Some("bkt"), Access::Write).is_err());
        assert!(p.check_scope(Some("cbk"), Access::Read).is_err());
        assert!(p.check_scope(None, Access::List).is_err());
        assert!(Policy::allow_all().check_scope(None, Access::List).is_ok());
    }
}
