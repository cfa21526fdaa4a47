//! The host's policy as an IAM session policy, so that STS-issued credentials are limited by AWS
//! itself to the buckets, prefixes and access classes the host allows.
//!
//! A session policy can only narrow what the role grants. Sent with AssumeRole (see
//! `crate::credentials::AssumeRoleProvider::with_session_policy`), it makes the credentials
//! the plugin gets useless outside the policy even if they leave the sandbox.
//!
//! Access classes map to S3 actions as the host's own check maps requests to classes:
//!
//! | class    | actions                                                                                   | resource              |
//! |----------|-------------------------------------------------------------------------------------------|-----------------------|
//! | `read`   | GetObject, GetObjectVersion, GetObjectTagging, GetObjectVersionTagging, ListMultipartUploadParts | `bucket/prefix*`  |
//! | `write`  | PutObject, PutObjectTagging, PutObjectVersionTagging, DeleteObjectTagging, DeleteObjectVersionTagging, AbortMultipartUpload | `bucket/prefix*` |
//! | `delete` | DeleteObject, DeleteObjectVersion                                                         | `bucket/prefix*`      |
//! | `list`   | ListBucket, ListBucketVersions (with an `s3:prefix` condition under a prefix), ListBucketMultipartUploads and GetBucketLocation (whole buckets) | `bucket` |
//! | `list` on `*` | ListAllMyBuckets                                                                     | `*`                   |
//! | `admin`  | CreateBucket, DeleteBucket, GetBucketTagging, PutBucketTagging                           | `bucket`              |
//!
//! Under a prefix, `list` grants ListBucket only for listings whose prefix starts with it, as the
//! host does; HeadBucket (which AWS authorises as ListBucket without a prefix) is then refused by
//! AWS although the host would allow it.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Access, Policy, Rule};

/// The most characters STS accepts in an inline session policy.
pub const MAX_SESSION_POLICY_CHARS: usize = 2048;

const READ: &[&str] = &[
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectTagging",
    "s3:GetObjectVersionTagging",
    "s3:ListMultipartUploadParts",
];
const WRITE: &[&str] = &[
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersionTagging",
    "s3:AbortMultipartUpload",
];
const DELETE: &[&str] = &["s3:DeleteObject", "s3:DeleteObjectVersion"];
const LIST_KEYS: &[&str] = &["s3:ListBucket", "s3:ListBucketVersions"];
const LIST_BUCKET: &[&str] = &["s3:ListBucketMultipartUploads", "s3:GetBucketLocation"];
const ADMIN: &[&str] = &["s3:CreateBucket", "s3:DeleteBucket", "s3:GetBucketTagging", "s3:PutBucketTagging"];

/// The policy does not fit in a session policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the session policy for the rules {rules} is {length} characters, over STS's limit of {MAX_SESSION_POLICY_CHARS}; \
     use fewer or broader rules (one bucket without prefixes), or do without a session policy"
)]
pub struct SessionPolicyError {
    /// The rules, in `--allow` syntax.
    pub rules: String,
    /// The length of the policy they make.
    pub length: usize,
}

#[derive(Serialize)]
struct Document {
    #[serde(rename = "Version")]
    version: &'static str,
    #[serde(rename = "Statement")]
    statement: Vec<Statement>,
}

#[derive(Serialize)]
struct Statement {
    #[serde(rename = "Effect")]
    effect: &'static str,
    #[serde(rename = "Action")]
    action: Vec<&'static str>,
    #[serde(rename = "Resource")]
    resource: Vec<String>,
    #[serde(rename = "Condition", skip_serializing_if = "Option::is_none")]
    condition: Option<Condition>,
}

#[derive(Serialize)]
struct Condition {
    #[serde(rename = "StringLike")]
    string_like: PrefixCondition,
}

#[derive(Serialize)]
struct PrefixCondition {
    #[serde(rename = "s3:prefix")]
    prefix: Vec<String>,
}

/// One grant before merging: actions on one resource, optionally for listings under a prefix.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Grant {
    actions: Vec<&'static str>,
    list_prefix: Option<String>,
    resource: String,
}

/// Writes a key prefix into an IAM pattern: `*`, `?` and `$` are special there and are written
/// `${*}`, `${?}` and `${$}`.
pub fn iam_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '*' | '?' | '$' => {
                out.push_str("${");
                out.push(c);
                out.push('}');
            }
            _ => out.push(c),
        }
    }
    out
}

fn grants(rule: &Rule, partition: &str) -> Vec<Grant> {
    let bucket = rule.bucket.as_deref().map_or_else(|| "*".to_owned(), iam_literal);
    let prefix = rule.prefix.as_deref().map(iam_literal);
    let bucket_arn = format!("arn:{partition}:s3:::{bucket}");
    let objects_arn = format!("{bucket_arn}/{}*", prefix.as_deref().unwrap_or(""));
    let ops = rule.access;
    let mut object_actions = Vec::new();
    for (op, actions) in [(Access::Read, READ), (Access::Write, WRITE), (Access::Delete, DELETE)] {
        if ops.contains(op) {
            object_actions.extend_from_slice(actions);
        }
    }
    let mut out = Vec::new();
    if !object_actions.is_empty() {
        out.push(Grant { actions: object_actions, list_prefix: None, resource: objects_arn });
    }
    let mut bucket_actions = Vec::new();
    if ops.contains(Access::List) {
        match &prefix {
            Some(prefix) => out.push(Grant {
                actions: LIST_KEYS.to_vec(),
                list_prefix: Some(format!("{prefix}*")),
                resource: bucket_arn.clone(),
            }),
            None => bucket_actions.extend_from_slice(LIST_KEYS),
        }
        bucket_actions.extend_from_slice(LIST_BUCKET);
        if rule.bucket.is_none() && rule.prefix.is_none() {
            out.push(Grant {
                actions: vec!["s3:ListAllMyBuckets"],
                list_prefix: None,
                resource: "*".to_owned(),
            });
        }
    }
    // Admin is whole-bucket only; the host refuses it under a prefix, and so does this.
    if ops.contains(Access::Admin) && rule.prefix.is_none() {
        bucket_actions.extend_from_slice(ADMIN);
    }
    if !bucket_actions.is_empty() {
        out.push(Grant { actions: bucket_actions, list_prefix: None, resource: bucket_arn });
    }
    out
}

/// The IAM session policy (compact JSON) that allows what `policy` allows, in ARN `partition`
/// (`aws`, `aws-cn`, `aws-us-gov`; see [`s3_connector_rules::partition`]). Grants with the same
/// actions and condition share one statement. A policy without rules gives a policy that
/// denies all of S3. Longer than [`MAX_SESSION_POLICY_CHARS`] is an error.
pub fn session_policy(policy: &Policy, partition: &str) -> Result<String, SessionPolicyError> {
    let mut all: BTreeSet<Grant> = BTreeSet::new();
    for rule in policy.rules() {
        all.extend(grants(rule, partition));
    }
    let mut statement: Vec<Statement> = Vec::new();
    let mut groups: Vec<(Vec<&'static str>, Option<String>, Vec<String>)> = Vec::new();
    for grant in all {
        match groups.iter_mut().find(|(a, p, _)| *a == grant.actions && *p == grant.list_prefix) {
            Some((_, _, resources)) => resources.push(grant.resource),
            None => groups.push((grant.actions, grant.list_prefix, vec![grant.resource])),
        }
    }
    // Listings under different prefixes of one bucket share a statement too.
    let mut merged: Vec<(Vec<&'static str>, Vec<String>, Vec<String>)> = Vec::new();
    for (actions, prefix, resources) in groups {
        match prefix {
            None => statement.push(Statement {
                effect: "Allow",
                action: actions,
                resource: resources,
                condition: None,
            }),
            Some(prefix) => match merged.iter_mut().find(|(a, r, _)| *a == actions && *r == resources) {
                Some((_, _, prefixes)) => prefixes.push(prefix),
                None => merged.push((actions, resources, vec![prefix])),
            },
        }
    }
    for (actions, resources, prefixes) in merged {
        statement.push(Statement {
            effect: "Allow",
            action: actions,
            resource: resources,
            condition: Some(Condition { string_like: PrefixCondition { prefix: prefixes } }),
        });
    }
    if statement.is_empty() {
        statement.push(Statement {
            effect: "Deny",
            action: vec!["s3:*"],
            resource: vec!["*".to_owned()],
            condition: None,
        });
    }
    let document = Document { version: "2012-10-17", statement };
    // Serializing plain strings and vectors cannot fail.
    let json = serde_json::to_string(&document).unwrap_or_default();
    if json.chars().count() > MAX_SESSION_POLICY_CHARS {
        return Err(SessionPolicyError { rules: policy.summary(), length: json.chars().count() });
    }
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(flags: &[&str]) -> Policy {
        Policy::from_allow_flags(flags).unwrap()
    }

    const OBJECTS: &str = r#""s3:GetObject","s3:GetObjectVersion","s3:GetObjectTagging","s3:GetObjectVersionTagging","s3:ListMultipartUploadParts","s3:PutObject","s3:PutObjectTagging","s3:PutObjectVersionTagging","s3:DeleteObjectTagging","s3:DeleteObjectVersionTagging","s3:AbortMultipartUpload","s3:DeleteObject","s3:DeleteObjectVersion""#;

    #[test]
    fn each_operation_class_maps_to_its_actions_and_resources() {
        let v = r#"{"Version":"2012-10-17","Statement":["#;
        let table: &[(&[&str], &str, String)] = &[
            (
                &["photos=read"],
                "aws",
                format!(
                    r#"{v}{{"Effect":"Allow","Action":["s3:GetObject","s3:GetObjectVersion","s3:GetObjectTagging","s3:GetObjectVersionTagging","s3:ListMultipartUploadParts"],"Resource":["arn:aws:s3:::photos/*"]}}]}}"#
                ),
            ),
            (
                &["photos/in/=delete"],
                "aws-cn",
                format!(
                    r#"{v}{{"Effect":"Allow","Action":["s3:DeleteObject","s3:DeleteObjectVersion"],"Resource":["arn:aws-cn:s3:::photos/in/*"]}}]}}"#
                ),
            ),
            (
                &["logs=list"],
                "aws",
                format!(
                    r#"{v}{{"Effect":"Allow","Action":["s3:ListBucket","s3:ListBucketVersions","s3:ListBucketMultipartUploads","s3:GetBucketLocation"],"Resource":["arn:aws:s3:::logs"]}}]}}"#
                ),
            ),
            (
                &["logs/2025/=list"],
                "aws",
                format!(
                    r#"{v}{{"Effect":"Allow","Action":["s3:ListBucketMultipartUploads","s3:GetBucketLocation"],"Resource":["arn:aws:s3:::logs"]}},{{"Effect":"Allow","Action":["s3:ListBucket","s3:ListBucketVersions"],"Resource":["arn:aws:s3:::logs"],"Condition":{{"StringLike":{{"s3:prefix":["2025/*"]}}}}}}]}}"#
                ),
            ),
            (
                &["bkt=admin"],
                "aws-us-gov",
                format!(
                    r#"{v}{{"Effect":"Allow","Action":["s3:CreateBucket","s3:DeleteBucket","s3:GetBucketTagging","s3:PutBucketTagging"],"Resource":["arn:aws-us-gov:s3:::bkt"]}}]}}"#
                ),
            ),
            (
                &["*=list"],
                "aws",
                format!(
                    r#"{v}{{"Effect":"Allow","Action":["s3:ListAllMyBuckets"],"Resource":["*"]}},{{"Effect":"Allow","Action":["s3:ListBucket","s3:ListBucketVersions","s3:ListBucketMultipartUploads","s3:GetBucketLocation"],"Resource":["arn:aws:s3:::*"]}}]}}"#
                ),
            ),
            // Two buckets with the same operations share one statement.
            (
                &["aaa=read,write,delete", "bbb=read,write,delete"],
                "aws",
                format!(
                    r#"{v}{{"Effect":"Allow","Action":[{OBJECTS}],"Resource":["arn:aws:s3:::aaa/*","arn:aws:s3:::bbb/*"]}}]}}"#
                ),
            ),
            // Wildcard characters in a prefix are literal.
            (
                &["bkt/a*b?$/=read"],
                "aws",
                format!(
                    r#"{v}{{"Effect":"Allow","Action":["s3:GetObject","s3:GetObjectVersion","s3:GetObjectTagging","s3:GetObjectVersionTagging","s3:ListMultipartUploadParts"],"Resource":["arn:aws:s3:::bkt/a${{*}}b${{?}}${{$}}/*"]}}]}}"#
                ),
            ),
            (&[], "aws", format!(r#"{v}{{"Effect":"Deny","Action":["s3:*"],"Resource":["*"]}}]}}"#)),
        ];
        for (flags, partition, expected) in table {
            let json = session_policy(&policy(flags), partition).unwrap();
            assert_eq!(&json, expected, "{flags:?}");
            let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(parsed["Version"], "2012-10-17");
        }
    }

    #[test]
    fn listings_under_two_prefixes_share_a_condition() {
        let json = session_policy(&policy(&["bkt/x/=list", "bkt/y/=list"]), "aws").unwrap();
        assert!(json.contains(r#""Condition":{"StringLike":{"s3:prefix":["x/*","y/*"]}}"#), "{json}");
    }

    #[test]
    fn too_many_rules_are_refused_with_the_length() {
        let flags: Vec<String> =
            (0..40).map(|i| format!("bucket-number-{i:03}/some/longer/prefix/{i}/=read,list")).collect();
        let error = session_policy(&Policy::from_allow_flags(&flags).unwrap(), "aws").unwrap_err();
        assert!(error.length > MAX_SESSION_POLICY_CHARS);
        let message = error.to_string();
        assert!(
            message.contains("over STS's limit of 2048") && message.contains("bucket-number-000/some/longer"),
            "{message}"
        );
    }
}
