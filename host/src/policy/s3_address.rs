//! The one parser of S3 requests: from method, URI and headers to what the request does to
//! which bucket and key. The policy is checked against its answer, never against what the
//! plugin says it is doing. Anything it cannot classify is an error, and so a denial.

use http::{HeaderMap, Method, Uri};
use s3_connector_rules::{BucketNameError, Endpoint, decode_path, validate_bucket_name};

use super::{Access, S3Action};
use crate::secrets::redact;

/// What an S3 request does, as far as the policy is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Request {
    /// The S3 action, for example `GetObject`.
    pub action: S3Action,
    /// The access class checked: the action's own ([`S3Action::access`]), or `read` when the
    /// policy checks a copy's source.
    pub access: Access,
    /// The bucket, none for service-level calls (ListBuckets).
    pub bucket: Option<String>,
    /// The object key, for object-level calls.
    pub key: Option<String>,
    /// For listings: the key prefix listed (empty for the whole bucket).
    pub list_prefix: Option<String>,
    /// For CopyObject and UploadPartCopy: the source bucket and key, read from
    /// `x-amz-copy-source`.
    pub copy_source: Option<(String, String)>,
}

impl S3Request {
    /// `action` on one object, as the parser would read it: for checking a plan against the
    /// policy before any request exists (a move's copy and delete).
    pub fn object(action: S3Action, bucket: &str, key: &str) -> Self {
        S3Request {
            action,
            access: action.access(),
            bucket: Some(bucket.to_owned()),
            key: Some(key.to_owned()),
            list_prefix: None,
            copy_source: None,
        }
    }

    /// Whether only a rule on the whole bucket may allow it (see
    /// [`S3Action::needs_whole_bucket`]); a copy's source is read key by key.
    pub fn needs_whole_bucket(&self) -> bool {
        self.access == self.action.access() && self.action.needs_whole_bucket()
    }
}

/// Why a request could not be classified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Scheme, host or port differ from the configured endpoint.
    #[error("{url} is not on the configured endpoint {endpoint}")]
    WrongEndpoint {
        /// The request's scheme and authority.
        url: String,
        /// The configured endpoint.
        endpoint: String,
    },
    /// No path, or a path that is not absolute.
    #[error("request path {0:?} is not an absolute S3 path")]
    BadPath(String),
    /// A bucket that breaks S3's naming rules.
    #[error(transparent)]
    BucketName(#[from] BucketNameError),
    /// Percent-encoding that does not decode to UTF-8.
    #[error("{0:?} does not decode to UTF-8")]
    BadEncoding(String),
    /// A method and sub-resource combination this parser does not know.
    #[error("{method} {what} with query {query:?} is not an S3 operation the host recognises")]
    Unrecognised {
        /// The method.
        method: Method,
        /// `the service`, `a bucket` or `an object`.
        what: &'static str,
        /// The query string.
        query: String,
    },
    /// A malformed `x-amz-copy-source`.
    #[error("x-amz-copy-source {0:?} is not bucket/key")]
    BadCopySource(String),
    /// A `Host` header that names another host than the request's authority: a server could
    /// read the bucket from either.
    #[error("the Host header {host:?} differs from the request's authority {authority:?}")]
    HostMismatch {
        /// The header's value.
        host: String,
        /// The URI's authority.
        authority: String,
    },
    /// A header the parser reads (or that names the target) given more than once: servers
    /// disagree on which value counts.
    #[error("the request carries the {0} header more than once")]
    RepeatedHeader(&'static str),
}

/// Headers that decide what a request touches: each may appear once at most.
const SINGLE_HEADERS: &[&str] = &["host", "x-amz-copy-source"];

/// Query parameters that only shape a listing and never change what is touched.
const LIST_PARAMS: &[&str] = &[
    "list-type",
    "prefix",
    "delimiter",
    "max-keys",
    "continuation-token",
    "start-after",
    "encoding-type",
    "fetch-owner",
    "marker",
    "key-marker",
    "upload-id-marker",
    "version-id-marker",
    "max-uploads",
];
/// Query parameters of GetObject and HeadObject that only shape the response.
const GET_PARAMS: &[&str] = &[
    "versionId",
    "partNumber",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
];
/// Query parameters of ListBuckets.
const LIST_BUCKETS_PARAMS: &[&str] = &["max-buckets", "continuation-token", "prefix", "bucket-region"];

/// Parses a request against the configured endpoint.
pub fn parse(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    endpoint: &Endpoint,
) -> Result<S3Request, AddressError> {
    let bucket_from_host = match_endpoint(uri, endpoint)?;
    check_headers(uri, headers)?;
    let path_and_query = uri.path_and_query().ok_or_else(|| AddressError::BadPath(String::new()))?;
    let path = path_and_query.path();
    let rest = path.strip_prefix('/').ok_or_else(|| AddressError::BadPath(path.to_owned()))?;
    let (bucket, key) = match bucket_from_host {
        Some(bucket) => (Some(bucket), rest),
        None => match rest.split_once('/') {
            Some((bucket, key)) => (Some(decode(bucket)?), key),
            None if rest.is_empty() => (None, ""),
            None => (Some(decode(rest)?), ""),
        },
    };
    if let Some(bucket) = &bucket {
        validate_bucket_name(bucket)?;
    }
    let key = if key.is_empty() { None } else { Some(decode(key)?) };
    let query = parse_query(path_and_query.query().unwrap_or(""))?;
    let copy_source = match headers.get("x-amz-copy-source") {
        Some(value) => Some(parse_copy_source(value.to_str().unwrap_or("\u{0}"))?),
        None => None,
    };
    classify(method, bucket, key, &query, copy_source, path_and_query.query().unwrap_or(""))
}

/// The query parameters a presigned URL carries its signature in.
const PRESIGN_PARAMS: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
];

/// Parses a presigned URL for `method`: the request it allows, and its lifetime in seconds.
/// The signature parameters are set aside; everything else is classified as for a request.
pub fn parse_presigned(
    method: &Method,
    url: &str,
    endpoint: &Endpoint,
) -> Result<(S3Request, u64), AddressError> {
    let uri: Uri = url.parse().map_err(|_| AddressError::BadPath(redact::query_values(url)))?;
    let query = uri.query().unwrap_or("");
    let (signature, rest): (Vec<&str>, Vec<&str>) = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .partition(|pair| PRESIGN_PARAMS.contains(&pair.split_once('=').map_or(*pair, |(name, _)| name)));
    let expires = signature
        .iter()
        .find_map(|pair| pair.strip_prefix("X-Amz-Expires="))
        .and_then(|value| value.parse::<u64>().ok())
        .ok_or_else(|| AddressError::BadPath(format!("{} (no X-Amz-Expires)", uri.path())))?;
    let mut unsigned = format!(
        "{}://{}{}",
        uri.scheme_str().unwrap_or(""),
        uri.authority().map_or("", |a| a.as_str()),
        uri.path()
    );
    if !rest.is_empty() {
        unsigned.push('?');
        unsigned.push_str(&rest.join("&"));
    }
    let unsigned: Uri = unsigned.parse().map_err(|_| AddressError::BadPath(uri.path().to_owned()))?;
    Ok((parse(method, &unsigned, &HeaderMap::new(), endpoint)?, expires))
}

/// Checks scheme, host and port; returns the bucket for virtual-hosted requests.
fn match_endpoint(uri: &Uri, endpoint: &Endpoint) -> Result<Option<String>, AddressError> {
    let wrong = || AddressError::WrongEndpoint {
        url: format!("{}://{}", uri.scheme_str().unwrap_or("?"), uri.authority().map_or("", |a| a.as_str())),
        endpoint: endpoint.url(),
    };
    let authority = uri.authority().ok_or_else(wrong)?;
    if uri.scheme_str() != Some(endpoint.scheme_str()) || authority.as_str().contains('@') {
        return Err(wrong());
    }
    // The scheme matched, so the endpoint's default port is the request's default too.
    let port = authority.port_u16().unwrap_or(endpoint.scheme.default_port());
    if port != endpoint.effective_port() {
        return Err(wrong());
    }
    let host = authority.host().to_ascii_lowercase();
    if host == endpoint.host {
        return Ok(None);
    }
    match host.strip_suffix(&format!(".{}", endpoint.host)) {
        Some(bucket) if !endpoint.host_is_ip_or_local() => Ok(Some(bucket.to_owned())),
        _ => Err(wrong()),
    }
}

/// One value at most for the headers that decide the target, and a `Host` header (wasi:http
/// sets it from the authority) that names the authority itself.
fn check_headers(uri: &Uri, headers: &HeaderMap) -> Result<(), AddressError> {
    if let Some(name) = SINGLE_HEADERS.iter().find(|name| headers.get_all(**name).iter().count() > 1) {
        return Err(AddressError::RepeatedHeader(name));
    }
    let authority = uri.authority().map_or("", |a| a.as_str());
    match headers.get(http::header::HOST) {
        Some(host) if !host.as_bytes().eq_ignore_ascii_case(authority.as_bytes()) => {
            Err(AddressError::HostMismatch {
                host: String::from_utf8_lossy(host.as_bytes()).into_owned(),
                authority: authority.to_owned(),
            })
        }
        _ => Ok(()),
    }
}

fn decode(encoded: &str) -> Result<String, AddressError> {
    decode_path(encoded).ok_or_else(|| AddressError::BadEncoding(encoded.to_owned()))
}

fn parse_query(query: &str) -> Result<Vec<(String, String)>, AddressError> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(name)?, decode(value)?))
        })
        .collect()
}

fn parse_copy_source(value: &str) -> Result<(String, String), AddressError> {
    let bad = || AddressError::BadCopySource(value.to_owned());
    let path = value.split_once("?versionId=").map_or(value, |(path, _)| path);
    let decoded = decode(path.strip_prefix('/').unwrap_or(path))?;
    let (bucket, key) = decoded.split_once('/').ok_or_else(bad)?;
    if key.is_empty() {
        return Err(bad());
    }
    validate_bucket_name(bucket)?;
    Ok((bucket.to_owned(), key.to_owned()))
}

fn classify(
    method: &Method,
    bucket: Option<String>,
    key: Option<String>,
    query: &[(String, String)],
    copy_source: Option<(String, String)>,
    raw_query: &str,
) -> Result<S3Request, AddressError> {
    let has = |name: &str| query.iter().any(|(n, _)| n == name);
    let value = |name: &str| query.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let only = |allowed: &[&str]| query.iter().all(|(n, _)| allowed.contains(&n.as_str()));
    let sub = |names: &[&str]| has(names[0]) && query.iter().all(|(n, _)| names.contains(&n.as_str()));
    let unrecognised =
        // A presigned signature in the query would otherwise be quoted in the denial.
        |what| AddressError::Unrecognised { method: method.clone(), what, query: redact::query_values(raw_query) };
    let m = method.clone();

    let action =
        match (&bucket, &key) {
            (None, _) => match m {
                Method::GET if only(LIST_BUCKETS_PARAMS) => S3Action::ListBuckets,
                _ => return Err(unrecognised("the service")),
            },
            (Some(_), None) => {
                let listing = |names: &[&str]| has(names[0]) && only(&[names, LIST_PARAMS].concat());
                match m {
                    Method::PUT if query.is_empty() => S3Action::CreateBucket,
                    Method::DELETE if query.is_empty() => S3Action::DeleteBucket,
                    Method::HEAD if query.is_empty() => S3Action::HeadBucket,
                    Method::GET if sub(&["location"]) => S3Action::GetBucketLocation,
                    Method::GET if listing(&["uploads"]) => S3Action::ListMultipartUploads,
                    Method::GET if listing(&["versions"]) => S3Action::ListObjectVersions,
                    Method::GET if only(LIST_PARAMS) && value("list-type").as_deref() == Some("2") => {
                        S3Action::ListObjectsV2
                    }
                    Method::GET if only(LIST_PARAMS) && !has("list-type") => S3Action::ListObjects,
                    Method::POST if sub(&["delete"]) => S3Action::DeleteObjects,
                    Method::GET if sub(&["tagging"]) => S3Action::GetBucketTagging,
                    Method::PUT if sub(&["tagging"]) => S3Action::PutBucketTagging,
                    Method::DELETE if sub(&["tagging"]) => S3Action::DeleteBucketTagging,
                    _ => return Err(unrecognised("a bucket")),
                }
            }
            (Some(_), Some(_)) => match m {
                Method::GET if only(GET_PARAMS) => S3Action::GetObject,
                Method::HEAD if only(GET_PARAMS) => S3Action::HeadObject,
                Method::PUT if query.is_empty() && copy_source.is_some() => S3Action::CopyObject,
                Method::PUT if query.is_empty() => S3Action::PutObject,
                Method::PUT if sub(&["partNumber", "uploadId"]) && has("uploadId") => {
                    if copy_source.is_some() { S3Action::UploadPartCopy } else { S3Action::UploadPart }
                }
                Method::POST if sub(&["uploads"]) => S3Action::CreateMultipartUpload,
                Method::POST if sub(&["uploadId"]) => S3Action::CompleteMultipartUpload,
                Method::DELETE if sub(&["uploadId"]) => S3Action::AbortMultipartUpload,
                Method::GET if sub(&["uploadId", "max-parts", "part-number-marker"]) => S3Action::ListParts,
                Method::DELETE if only(&["versionId"]) => S3Action::DeleteObject,
                Method::GET if sub(&["tagging", "versionId"]) => S3Action::GetObjectTagging,
                Method::PUT if sub(&["tagging", "versionId"]) => S3Action::PutObjectTagging,
                Method::DELETE if sub(&["tagging", "versionId"]) => S3Action::DeleteObjectTagging,
                _ => return Err(unrecognised("an object")),
            },
        };
    // A copy source only belongs on the two copy operations.
    let copy_source = match action {
        S3Action::CopyObject | S3Action::UploadPartCopy => copy_source,
        _ if copy_source.is_some() => return Err(unrecognised("an object")),
        _ => None,
    };
    let access = action.access();
    let list_prefix =
        (access == Access::List && bucket.is_some()).then(|| value("prefix").unwrap_or_default());
    Ok(S3Request { action, access, bucket, key, list_prefix, copy_source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Endpoint {
        Endpoint::parse("http://127.0.0.1:9000").unwrap()
    }

    fn parse_str(method: &str, url: &str, copy_source: Option<&str>) -> Result<S3Request, AddressError> {
        parse_with(method, url, copy_source, &endpoint())
    }

    fn parse_with(
        method: &str,
        url: &str,
        copy_source: Option<&str>,
        endpoint: &Endpoint,
    ) -> Result<S3Request, AddressError> {
        let mut headers = HeaderMap::new();
        if let Some(source) = copy_source {
            headers.insert("x-amz-copy-source", source.parse().unwrap());
        }
        parse(&method.parse().unwrap(), &url.parse().unwrap(), &headers, endpoint)
    }

    #[test]
    fn operations_are_classified() {
        let e = "http://127.0.0.1:9000";
        let table: &[(&str, String, Option<&str>, &str, Access, Option<&str>, Option<&str>)] = &[
            ("GET", format!("{e}/"), None, "ListBuckets", Access::List, None, None),
            ("PUT", format!("{e}/bkt"), None, "CreateBucket", Access::Admin, Some("bkt"), None),
            ("DELETE", format!("{e}/bkt/"), None, "DeleteBucket", Access::Admin, Some("bkt"), None),
            ("HEAD", format!("{e}/bkt"), None, "HeadBucket", Access::List, Some("bkt"), None),
            (
                "GET",
                format!("{e}/bkt?list-type=2&prefix=a%2F"),
                None,
                "ListObjectsV2",
                Access::List,
                Some("bkt"),
                None,
            ),
            ("GET", format!("{e}/bkt?location"), None, "GetBucketLocation", Access::List, Some("bkt"), None),
            (
                "GET",
                format!("{e}/bkt?uploads"),
                None,
                "ListMultipartUploads",
                Access::List,
                Some("bkt"),
                None,
            ),
            ("POST", format!("{e}/bkt?delete"), None, "DeleteObjects", Access::Delete, Some("bkt"), None),
            ("GET", format!("{e}/bkt/a%20b"), None, "GetObject", Access::Read, Some("bkt"), Some("a b")),
            (
                "HEAD",
                format!("{e}/bkt/k?versionId=3"),
                None,
                "HeadObject",
                Access::Read,
                Some("bkt"),
                Some("k"),
            ),
            ("PUT", format!("{e}/bkt/k"), None, "PutObject", Access::Write, Some("bkt"), Some("k")),
            (
                "PUT",
                format!("{e}/bkt/k"),
                Some("/src/x%20y"),
                "CopyObject",
                Access::Write,
                Some("bkt"),
                Some("k"),
            ),
            (
                "POST",
                format!("{e}/bkt/k?uploads"),
                None,
                "CreateMultipartUpload",
                Access::Write,
                Some("bkt"),
                Some("k"),
            ),
            (
                "PUT",
                format!("{e}/bkt/k?partNumber=1&uploadId=u"),
                None,
                "UploadPart",
                Access::Write,
                Some("bkt"),
                Some("k"),
            ),
            (
                "POST",
                format!("{e}/bkt/k?uploadId=u"),
                None,
                "CompleteMultipartUpload",
                Access::Write,
                Some("bkt"),
                Some("k"),
            ),
            (
                "DELETE",
                format!("{e}/bkt/k?uploadId=u"),
                None,
                "AbortMultipartUpload",
                Access::Write,
                Some("bkt"),
                Some("k"),
            ),
            ("DELETE", format!("{e}/bkt/k"), None, "DeleteObject", Access::Delete, Some("bkt"), Some("k")),
            (
                "GET",
                format!("{e}/bkt/k?tagging"),
                None,
                "GetObjectTagging",
                Access::Read,
                Some("bkt"),
                Some("k"),
            ),
            // Keys are literal: no normalisation of dots or slashes, `+` is a plus.
            ("GET", format!("{e}/bkt/a/../b"), None, "GetObject", Access::Read, Some("bkt"), Some("a/../b")),
            ("GET", format!("{e}/bkt//x"), None, "GetObject", Access::Read, Some("bkt"), Some("/x")),
            ("GET", format!("{e}/bkt/a+b%2Bc"), None, "GetObject", Access::Read, Some("bkt"), Some("a+b+c")),
            ("GET", format!("{e}/bkt/%2E%2E/x"), None, "GetObject", Access::Read, Some("bkt"), Some("../x")),
        ];
        for (method, url, copy, action, access, bucket, key) in table {
            let got = parse_str(method, url, *copy).unwrap_or_else(|e| panic!("{method} {url}: {e}"));
            assert_eq!(
                (got.action.name(), got.access, got.bucket.as_deref(), got.key.as_deref()),
                (*action, *access, *bucket, *key),
                "{method} {url}"
            );
        }
        let copy = parse_str("PUT", &format!("{e}/bkt/k"), Some("src/x%20y?versionId=1")).unwrap();
        assert_eq!(copy.copy_source, Some(("src".into(), "x y".into())));
        let list = parse_str("GET", &format!("{e}/bkt?list-type=2&prefix=a%2Fb"), None).unwrap();
        assert_eq!(list.list_prefix.as_deref(), Some("a/b"));
    }

    #[test]
    fn virtual_hosted_requests_name_their_bucket_in_the_host() {
        let aws = Endpoint::parse("https://s3.eu-west-1.amazonaws.com").unwrap();
        let got = parse_with("GET", "https://bkt.s3.eu-west-1.amazonaws.com/k/x", None, &aws).unwrap();
        assert_eq!((got.bucket.as_deref(), got.key.as_deref()), (Some("bkt"), Some("k/x")));
        let got = parse_with("GET", "https://s3.eu-west-1.amazonaws.com/bkt/k", None, &aws).unwrap();
        assert_eq!((got.bucket.as_deref(), got.key.as_deref()), (Some("bkt"), Some("k")));
        // A bucket name that breaks the rules, even in the host, is refused.
        assert!(parse_with("GET", "https://Bad_Bucket.s3.eu-west-1.amazonaws.com/k", None, &aws).is_err());
    }

    #[test]
    fn presigned_urls_are_classified_without_their_signature() {
        let url = "http://127.0.0.1:9000/bkt/a%20b?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=abc";
        let (request, expires) = parse_presigned(&Method::GET, url, &endpoint()).unwrap();
        assert_eq!(
            (request.action, request.key.as_deref(), expires),
            (S3Action::GetObject, Some("a b"), 3600)
        );
        let (request, _) = parse_presigned(&Method::PUT, url, &endpoint()).unwrap();
        assert_eq!(request.action, S3Action::PutObject);
        let sneaky = "http://127.0.0.1:9000/bkt/k?acl&X-Amz-Expires=60&X-Amz-Signature=abc";
        assert!(parse_presigned(&Method::GET, sneaky, &endpoint()).is_err());
        let elsewhere = "http://127.0.0.1:9001/bkt/k?X-Amz-Expires=60";
        assert!(parse_presigned(&Method::GET, elsewhere, &endpoint()).is_err());
        assert!(parse_presigned(&Method::GET, "http://127.0.0.1:9000/bkt/k", &endpoint()).is_err());
    }

    #[test]
    fn anything_unclassifiable_or_off_endpoint_is_an_error() {
        let e = "http://127.0.0.1:9000";
        let table: &[(&str, String, Option<&str>, &str)] = &[
            ("GET", "http://127.0.0.1:9001/bkt/k".into(), None, "not on the configured endpoint"),
            ("GET", "https://127.0.0.1:9000/bkt/k".into(), None, "not on the configured endpoint"),
            ("GET", "http://localhost:9000/bkt/k".into(), None, "not on the configured endpoint"),
            ("GET", "http://10.0.0.1:9000/bkt/k".into(), None, "not on the configured endpoint"),
            ("GET", "http://bkt.127.0.0.1:9000/k".into(), None, "not on the configured endpoint"),
            ("GET", "http://user@127.0.0.1:9000/bkt/k".into(), None, "not on the configured endpoint"),
            ("GET", format!("{e}/Bucket/k"), None, "lower-case"),
            ("GET", format!("{e}/bk%2Ft/k"), None, "'/'"),
            ("GET", format!("{e}/bkt/%FF"), None, "UTF-8"),
            ("GET", format!("{e}/bkt?acl"), None, "not an S3 operation"),
            ("PUT", format!("{e}/bkt?policy"), None, "not an S3 operation"),
            ("GET", format!("{e}/bkt/k?X-Amz-Signature=x"), None, "not an S3 operation"),
            ("PATCH", format!("{e}/bkt/k"), None, "not an S3 operation"),
            ("POST", format!("{e}/"), None, "not an S3 operation"),
            ("GET", format!("{e}/bkt/k"), Some("/other/x"), "not an S3 operation"),
            ("PUT", format!("{e}/bkt/k"), Some("/other"), "not bucket/key"),
            ("PUT", format!("{e}/bkt/k"), Some("/BAD/x"), "lower-case"),
        ];
        for (method, url, copy, fragment) in table {
            let error = parse_str(method, url, *copy).expect_err(url).to_string();
            assert!(error.contains(fragment), "{method} {url}: {error}");
        }
    }

    #[test]
    fn host_headers_must_name_the_authority_and_target_headers_appear_once() {
        let url: Uri = "http://127.0.0.1:9000/bkt/k".parse().unwrap();
        let with = |pairs: &[(&str, &str)]| {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers
                    .append(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
            }
            parse(&Method::GET, &url, &headers, &endpoint())
        };
        assert!(with(&[("host", "127.0.0.1:9000")]).is_ok());
        let table: &[(&[(&str, &str)], &str)] = &[
            (&[("host", "other.127.0.0.1:9000")], "differs from the request's authority"),
            (&[("host", "127.0.0.1")], "differs from the request's authority"),
            (&[("host", "127.0.0.1:9000"), ("host", "evil:9000")], "host header more than once"),
            (&[("x-amz-copy-source", "/bkt/a"), ("x-amz-copy-source", "/b2/a")], "more than once"),
        ];
        for (headers, fragment) in table {
            let error = with(headers).expect_err(fragment).to_string();
            assert!(error.contains(fragment), "{headers:?}: {error}");
        }
    }

    #[test]
    fn denials_never_quote_a_signature() {
        let url = "http://127.0.0.1:9000/bkt/k?X-Amz-Credential=AKIDSENTINEL&X-Amz-Signature=SIGSENTINEL";
        let error = parse_str("GET", url, None).expect_err(url).to_string();
        assert!(error.contains("not an S3 operation"), "{error}");
        assert!(!error.contains("SENTINEL"), "{error}");
        let bad = "http://127.0.0.1:9000/bkt/k ?X-Amz-Signature=SIGSENTINEL";
        let error = parse_presigned(&Method::GET, bad, &endpoint()).expect_err(bad).to_string();
        assert!(!error.contains("SENTINEL"), "{error}");
    }
}
