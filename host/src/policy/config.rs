//! Policy syntax: `--allow BUCKET[/PREFIX][=ACCESS]` flags and `[[allow]]` tables in TOML.

use s3_connector_rules::validate_bucket_name;
use serde::Deserialize;

use super::{Access, AccessSet, Policy, Rule};

/// A rule that cannot be read. The message quotes the input and says what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid policy rule {input:?}: {reason}")]
pub struct PolicyConfigError {
    /// The rule as written.
    pub input: String,
    /// What is wrong and what to write instead.
    pub reason: String,
}

/// Parses `BUCKET[/PREFIX][=ACCESS]`: `*` for every bucket, ACCESS a comma-separated list of
/// the access classes `read`, `write`, `delete`, `list`, `admin` (default: all but `admin`).
pub fn parse_allow(input: &str) -> Result<Rule, PolicyConfigError> {
    let (target, classes) = match input.split_once('=') {
        Some((target, classes)) => (target, Some(classes)),
        None => (input, None),
    };
    let (bucket, prefix) = match target.split_once('/') {
        Some((bucket, prefix)) => (bucket, Some(prefix)),
        None => (target, None),
    };
    let access = match classes {
        Some(classes) => {
            parse_access(classes.split(',').map(str::trim)).map_err(|reason| error(input, reason))?
        }
        None => AccessSet::OBJECTS,
    };
    rule(bucket, prefix, access).map_err(|reason| error(input, reason))
}

fn error(input: &str, reason: String) -> PolicyConfigError {
    PolicyConfigError { input: input.to_owned(), reason }
}

fn parse_access<'a>(names: impl Iterator<Item = &'a str>) -> Result<AccessSet, String> {
    let mut classes = Vec::new();
    for name in names {
        let access = Access::from_name(name).ok_or_else(|| {
            format!(
                "unknown access class {name:?}; use a comma-separated list of read, write, delete, list, admin"
            )
        })?;
        classes.push(access);
    }
    if classes.is_empty() {
        return Err("no access class listed; use read, write, delete, list, admin".to_owned());
    }
    Ok(AccessSet::of(classes))
}

fn rule(bucket: &str, prefix: Option<&str>, access: AccessSet) -> Result<Rule, String> {
    let bucket = match bucket {
        "*" => None,
        name => {
            validate_bucket_name(name).map_err(|e| e.to_string())?;
            Some(name.to_owned())
        }
    };
    let prefix = prefix.filter(|p| !p.is_empty()).map(str::to_owned);
    if prefix.is_some() && access.contains(Access::Admin) {
        return Err("admin applies to whole buckets; drop the prefix or the admin access".to_owned());
    }
    Ok(Rule { bucket, prefix, access })
}

/// One `[[allow]]` table. Its list of access classes is `access`; `operations`, its name
/// before version 0.3, is still read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowTable {
    bucket: String,
    prefix: Option<String>,
    #[serde(alias = "operations")]
    access: Option<Vec<String>>,
}

impl AllowTable {
    /// The rule this table describes.
    pub fn to_rule(&self) -> Result<Rule, PolicyConfigError> {
        let input = format!("bucket = {:?}", self.bucket);
        let access = match &self.access {
            Some(names) => parse_access(names.iter().map(String::as_str)).map_err(|r| error(&input, r))?,
            None => AccessSet::OBJECTS,
        };
        rule(&self.bucket, self.prefix.as_deref(), access).map_err(|r| error(&input, r))
    }
}

impl Policy {
    /// The policy of `--allow` flags.
    pub fn from_allow_flags<S: AsRef<str>>(flags: &[S]) -> Result<Self, PolicyConfigError> {
        flags.iter().map(|f| parse_allow(f.as_ref())).collect::<Result<_, _>>().map(Policy::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_flags_parse() {
        let table: &[(&str, Result<&str, &str>)] = &[
            ("photos", Ok("photos=read,write,delete,list")),
            ("photos=read", Ok("photos=read")),
            ("photos/in/=read,list", Ok("photos/in/=read,list")),
            ("photos/=read", Ok("photos=read")),
            ("*=list", Ok("*=list")),
            ("*", Ok("*=read,write,delete,list")),
            ("bk1=admin,read", Ok("bk1=read,admin")),
            ("Photos=read", Err("lower-case")),
            ("photos=rread", Err("unknown access class \"rread\"")),
            ("photos=", Err("unknown access class \"\"")),
            ("photos/in/=admin", Err("admin applies to whole buckets")),
        ];
        for (input, expected) in table {
            match (parse_allow(input), expected) {
                (Ok(rule), Ok(text)) => assert_eq!(rule.to_string(), *text, "{input}"),
                (Err(e), Err(fragment)) => {
                    let message = e.to_string();
                    assert!(message.contains(fragment) && message.contains(input), "{input}: {message}");
                }
                (got, _) => panic!("{input}: {got:?}"),
            }
        }
    }
}
