//! The tenants file (`serve --tenants FILE`): who may call `serve`, and for each tenant its
//! policy, credentials and limits. It exists apart from the running table
//! ([`super::tenants`]) so that a file is checked whole, with the line of each mistake, before
//! anything is swapped in: a reload either takes the whole new file or keeps the old rules.
//!
//! ```toml
//! [[tenant]]
//! name = "team-a"
//! credentials = { source = "profile", profile = "team-a" }
//! limits = { max_in_flight = 16, requests_per_second = 50.0, burst = 100, max_body_bytes = 104857600 }
//! allow = [{ bucket = "team-a-data", operations = ["read", "list"] }]
//!
//! [[token]]
//! tenant = "team-a"
//! sha256 = "…64 hex digits…"
//! ```
//!
//! Tokens are top-level `[[token]]` tables naming their tenant, so that adding one
//! (`s3-connector serve-token add`) appends lines and never rewrites the operator's file.
//! Only the SHA-256 of a token is stored.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use s3_connector_host::credentials::Secret;
use s3_connector_host::policy::AllowTable;
use s3_connector_host::policy::Policy;

/// The longest tenant name: it is a metric label and an audit field.
const MAX_NAME: usize = 64;

/// A tenants file that cannot be used: the file, the line (when the mistake has one) and what
/// is wrong. Never quotes a secret: TOML's own messages quote the offending line, so only their
/// first line is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tenants file {}{}: {reason}", path.display(), line.map(|l| format!(", line {l}")).unwrap_or_default())]
pub struct TenantsFileError {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line of the mistake, when it has one.
    pub line: Option<usize>,
    /// What is wrong and what to write instead.
    pub reason: String,
}

/// Where a tenant's S3 credentials come from; each is one of the host's providers.
#[derive(Debug, Clone, PartialEq)]
pub enum CredentialsSource {
    /// Keys written in the file.
    Static {
        /// The access key id.
        access_key_id: String,
        /// The secret access key.
        secret_access_key: Secret,
        /// The session token of temporary keys.
        session_token: Option<Secret>,
    },
    /// A profile of the shared AWS files (`~/.aws/credentials`, `~/.aws/config`).
    Profile {
        /// The profile's name.
        profile: String,
    },
    /// A role assumed with STS, on top of a profile's credentials or the default chain.
    AssumeRole {
        /// The role's ARN.
        role_arn: String,
        /// The profile whose credentials assume it (`None`: the default chain).
        profile: Option<String>,
        /// The external id the role's trust policy asks for.
        external_id: Option<String>,
        /// Send the tenant's rules as the role session's policy, so AWS enforces them too.
        session_policy: bool,
    },
    /// The AWS SDKs' default chain (environment, profile, web identity, container, IMDS).
    DefaultChain,
}

/// A tenant's limits; `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TenantLimits {
    /// Requests of the tenant running at once; more are answered 429.
    pub max_in_flight: Option<u32>,
    /// Requests per second on average, and how many may come at once (a token bucket).
    pub rate: Option<Rate>,
    /// The largest request body, in bytes; a larger one is answered 413 before it is read.
    pub max_body_bytes: Option<u64>,
}

/// A token bucket: `per_second` tokens added each second, at most `burst` kept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests per second on average.
    pub per_second: f64,
    /// The bucket's size.
    pub burst: u32,
}

/// One tenant as the file describes it, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantSpec {
    /// Its name, in audit records, metrics and logs.
    pub name: String,
    /// The line of its `[[tenant]]` table.
    pub line: usize,
    /// What it may touch.
    pub policy: Policy,
    /// Where its credentials come from.
    pub credentials: CredentialsSource,
    /// Its limits.
    pub limits: TenantLimits,
    /// The SHA-256 of each of its tokens.
    pub token_hashes: Vec<[u8; 32]>,
    /// Its document store's directory (`documents = "DIR"`, storeId `fs`), for the JSON
    /// actions' documents; one per tenant, so that no tenant reads another's files.
    pub documents: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTable {
    #[serde(default)]
    tenant: Vec<Spanned<TenantTable>>,
    #[serde(default)]
    token: Vec<Spanned<TokenTable>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantTable {
    name: String,
    credentials: CredentialsTable,
    #[serde(default)]
    limits: LimitsTable,
    allow: Option<Vec<AllowTable>>,
    documents: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case", deny_unknown_fields)]
enum CredentialsTable {
    Static {
        access_key_id: String,
        secret_access_key: String,
        session_token: Option<String>,
    },
    Profile {
        profile: String,
    },
    AssumeRole {
        role_arn: String,
        profile: Option<String>,
        external_id: Option<String>,
        #[serde(default)]
        session_policy: bool,
    },
    Default {},
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LimitsTable {
    max_in_flight: Option<u32>,
    requests_per_second: Option<f64>,
    burst: Option<u32>,
    max_body_bytes: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenTable {
    tenant: String,
    sha256: String,
}

/// The SHA-256 of `token`, as stored in the file.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// `hash` as 64 lower-case hex digits.
pub fn hex(hash: &[u8; 32]) -> String {
    hash.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Reads and checks the tenants file at `path`.
pub fn load(path: &Path) -> Result<Vec<TenantSpec>, TenantsFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| TenantsFileError {
        path: path.to_owned(),
        line: None,
        reason: format!("cannot read it: {e}"),
    })?;
    parse(path, &text)
}

/// Checks the text of a tenants file (`path` only names it in errors).
pub fn parse(path: &Path, text: &str) -> Result<Vec<TenantSpec>, TenantsFileError> {
    let at = |offset: usize, reason: String| TenantsFileError {
        path: path.to_owned(),
        line: Some(line_of(text, offset)),
        reason,
    };
    let file: FileTable = toml::from_str(text).map_err(|e| {
        let reason = e.message().lines().next().unwrap_or("not valid TOML").to_owned();
        match e.span() {
            Some(span) => at(span.start, reason),
            None => TenantsFileError { path: path.to_owned(), line: None, reason },
        }
    })?;
    if file.tenant.is_empty() {
        return Err(TenantsFileError {
            path: path.to_owned(),
            line: None,
            reason: "no [[tenant]] table; describe at least one tenant".to_owned(),
        });
    }
    let mut specs: Vec<TenantSpec> = Vec::new();
    for table in &file.tenant {
        let start = table.span().start;
        let spec = tenant(table.get_ref(), line_of(text, start)).map_err(|reason| at(start, reason))?;
        if specs.iter().any(|other| other.name == spec.name) {
            return Err(at(start, format!("a second tenant named {:?}; names must be unique", spec.name)));
        }
        specs.push(spec);
    }
    let mut seen: Vec<[u8; 32]> = Vec::new();
    for token in &file.token {
        let start = token.span().start;
        let table = token.get_ref();
        let hash = parse_hash(&table.sha256).map_err(|reason| at(start, reason))?;
        if seen.contains(&hash) {
            return Err(at(start, "this token hash is listed twice; a token selects one tenant".to_owned()));
        }
        seen.push(hash);
        let Some(owner) = specs.iter_mut().find(|spec| spec.name == table.tenant) else {
            return Err(at(
                start,
                format!("the token names tenant {:?}, which no [[tenant]] table has", table.tenant),
            ));
        };
        owner.token_hashes.push(hash);
    }
    Ok(specs)
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).matches('\n').count() + 1
}

fn tenant(table: &TenantTable, line: usize) -> Result<TenantSpec, String> {
    let name = &table.name;
    if name.is_empty()
        || name.len() > MAX_NAME
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!("tenant name {name:?}: use 1 to {MAX_NAME} letters, digits, '-', '_' or '.'"));
    }
    let in_tenant = |reason: String| format!("tenant {name:?}: {reason}");
    let Some(allow) = &table.allow else {
        return Err(in_tenant(
            "no allow rules; list what it may touch (allow = [{ bucket = \"b\", operations = [\"read\"] }]), \
             or allow = [] for nothing"
                .to_owned(),
        ));
    };
    let rules = allow.iter().map(AllowTable::to_rule).collect::<Result<Vec<_>, _>>();
    let policy = Policy::new(rules.map_err(|e| in_tenant(e.to_string()))?);
    let credentials = match &table.credentials {
        CredentialsTable::Static { access_key_id, secret_access_key, session_token } => {
            CredentialsSource::Static {
                access_key_id: access_key_id.clone(),
                secret_access_key: Secret::new(secret_access_key.clone()),
                session_token: session_token.clone().map(Secret::new),
            }
        }
        CredentialsTable::Profile { profile } => CredentialsSource::Profile { profile: profile.clone() },
        CredentialsTable::AssumeRole { role_arn, profile, external_id, session_policy } => {
            CredentialsSource::AssumeRole {
                role_arn: role_arn.clone(),
                profile: profile.clone(),
                external_id: external_id.clone(),
                session_policy: *session_policy,
            }
        }
        CredentialsTable::Default {} => CredentialsSource::DefaultChain,
    };
    let limits = limits(&table.limits).map_err(in_tenant)?;
    let documents = table.documents.clone();
    Ok(TenantSpec {
        name: name.clone(),
        line,
        policy,
        credentials,
        limits,
        token_hashes: Vec::new(),
        documents,
    })
}

fn limits(table: &LimitsTable) -> Result<TenantLimits, String> {
    if table.max_in_flight == Some(0) {
        return Err("limits.max_in_flight = 0 would refuse every request; give 1 or more".to_owned());
    }
    if table.max_body_bytes == Some(0) {
        return Err("limits.max_body_bytes = 0 would refuse every body; give 1 or more".to_owned());
    }
    let rate = match (table.requests_per_second, table.burst) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err("limits.burst needs limits.requests_per_second".to_owned());
        }
        (Some(per_second), burst) => {
            if !per_second.is_finite() || per_second <= 0.0 {
                return Err(format!("limits.requests_per_second = {per_second}: give a positive number"));
            }
            // Without a burst, one second's worth (at least one request) may come at once.
            let burst = burst.unwrap_or_else(|| per_second.ceil().clamp(1.0, f64::from(u32::MAX)) as u32);
            if burst == 0 {
                return Err("limits.burst = 0 would refuse every request; give 1 or more".to_owned());
            }
            Some(Rate { per_second, burst })
        }
    };
    Ok(TenantLimits { max_in_flight: table.max_in_flight, rate, max_body_bytes: table.max_body_bytes })
}

fn parse_hash(text: &str) -> Result<[u8; 32], String> {
    let digits = text.trim();
    let refuse = || {
        format!(
            "sha256 must be 64 hex digits (the SHA-256 of the token; `s3-connector serve-token add` \
             writes it), got {} characters",
            digits.len()
        )
    };
    if digits.len() != 64 || !digits.is_ascii() {
        return Err(refuse());
    }
    let mut hash = [0u8; 32];
    for (i, byte) in hash.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).map_err(|_| refuse())?;
    }
    Ok(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[tenant]]
name = "team-a"
credentials = { source = "static", access_key_id = "AKIDA", secret_access_key = "SECRET-A" }
limits = { max_in_flight = 2, requests_per_second = 5.0, max_body_bytes = 1024 }
allow = [{ bucket = "alpha", operations = ["read", "list"] }]

[[tenant]]
name = "team-b"
credentials = { source = "assume-role", role_arn = "arn:aws:iam::123456789012:role/b" }
allow = []

[[token]]
tenant = "team-a"
sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
"#;

    fn error(text: &str) -> TenantsFileError {
        parse(Path::new("t.toml"), text).unwrap_err()
    }

    #[test]
    fn a_good_file_is_read_whole() {
        let specs = parse(Path::new("t.toml"), GOOD).unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!((specs[0].name.as_str(), specs[0].line), ("team-a", 2));
        assert_eq!(specs[0].policy.summary(), "alpha=read,list");
        assert_eq!(specs[0].token_hashes, vec![token_hash("test")]);
        assert_eq!(specs[0].limits.rate, Some(Rate { per_second: 5.0, burst: 5 }));
        assert_eq!(specs[1].policy.summary(), "nothing");
        assert!(matches!(specs[1].credentials, CredentialsSource::AssumeRole { profile: None, .. }));
        assert_eq!(specs[1].limits, TenantLimits::default());
        assert!(!format!("{specs:?}").contains("SECRET-A"), "Debug never shows a secret");
    }

    #[test]
    fn mistakes_are_refused_with_their_line_and_no_secret() {
        let table: &[(&str, usize, &str)] = &[
            ("[[tenant]]\nname = \"a\"\ncredentials = { source = \"nope\" }\nallow = []\n", 3, "nope"),
            ("[[tenant]]\nname = \"a\"\ncredentials = { source = \"default\" }\n", 1, "no allow rules"),
            (
                "[[tenant]]\nname = \"a\"\ncredentials = { source = \"default\" }\nallow = []\n\n[[tenant]]\nname = \"a\"\ncredentials = { source = \"default\" }\nallow = []\n",
                6,
                "unique",
            ),
            (
                "\n[[tenant]]\nname = \"a\"\ncredentials = { source = \"default\" }\nallow = [{ bucket = \"Bad\" }]\n",
                2,
                "lower-case",
            ),
            (
                "[[tenant]]\nname = \"a\"\ncredentials = { source = \"default\" }\nallow = []\n[[token]]\ntenant = \"b\"\nsha256 = \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"\n",
                5,
                "no [[tenant]] table has",
            ),
            (
                "[[tenant]]\nname = \"a\"\ncredentials = { source = \"default\" }\nallow = []\n[[token]]\ntenant = \"a\"\nsha256 = \"SECRET-TOKEN\"\n",
                5,
                "64 hex digits",
            ),
            (
                "[[tenant]]\nname = \"a\"\nlimits = { burst = 3 }\ncredentials = { source = \"default\" }\nallow = []\n",
                1,
                "burst needs",
            ),
            (
                "[[tenant]]\nname = \"a\"\ncredentials = { source = \"static\", access_key_id = \"A\", secret_access_key = 7 }\n",
                3,
                "",
            ),
            (
                "[[tenant]]\nname = \"a b\"\ncredentials = { source = \"default\" }\nallow = []\n",
                1,
                "letters, digits",
            ),
        ];
        for (text, line, fragment) in table {
            let refused = error(text);
            let message = refused.to_string();
            assert_eq!(refused.line, Some(*line), "{message}");
            assert!(message.contains(fragment) && message.contains("t.toml"), "{message}");
            assert!(!message.contains("SECRET"), "{message}");
        }
        assert!(error("").to_string().contains("no [[tenant]]"));
    }
}
