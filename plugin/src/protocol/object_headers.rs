//! Request headers from the contract's options: metadata, conditions, encryption, tags.
//! Pure functions, so that each option's wire form is tested without a server.

use base64::Engine as _;
use http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_ENCODING, CONTENT_TYPE, HeaderName, HeaderValue, IF_MATCH,
    IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_UNMODIFIED_SINCE,
};
use md5::Digest as _;
use s3_connector_rules::encode_query_component;

use crate::bindings::s3_connector::s3::types::{Conditions, Encryption, GetOptions, PutOptions, S3Error};
use crate::protocol::checked_names::Object;
use crate::protocol::s3_error::invalid;

/// Headers in the order they are sent.
pub type Headers = Vec<(HeaderName, HeaderValue)>;

fn value(what: &str, text: &str) -> Result<HeaderValue, S3Error> {
    HeaderValue::from_str(text)
        .ok()
        .filter(|_| text.is_ascii())
        .ok_or_else(|| invalid(format!("{what} {text:?} is not a valid header value; use printable ASCII")))
}

/// The headers of PutObject and CreateMultipartUpload.
pub fn put_headers(options: &PutOptions) -> Result<Headers, S3Error> {
    let mut headers = Headers::new();
    let optional = [
        (CONTENT_TYPE, "content type", &options.content_type),
        (CONTENT_DISPOSITION, "content disposition", &options.content_disposition),
        (CACHE_CONTROL, "cache control", &options.cache_control),
        (CONTENT_ENCODING, "content encoding", &options.content_encoding),
        (HeaderName::from_static("x-amz-storage-class"), "storage class", &options.storage_class),
    ];
    for (name, what, text) in optional {
        if let Some(text) = text {
            headers.push((name, value(what, text)?));
        }
    }
    for (name, text) in &options.metadata {
        let header =
            HeaderName::from_bytes(format!("x-amz-meta-{}", name.to_ascii_lowercase()).as_bytes())
                .map_err(|_| invalid(format!("metadata name {name:?} is not a valid HTTP header name")))?;
        let text = value(&format!("metadata {name:?} has value"), text).map_err(|_| {
            invalid(format!(
                "metadata {name:?} has value {text:?}; S3 metadata values must be printable ASCII"
            ))
        })?;
        headers.push((header, text));
    }
    if !options.tags.is_empty() {
        let tagging: Vec<String> = options
            .tags
            .iter()
            .map(|(k, v)| format!("{}={}", encode_query_component(k), encode_query_component(v)))
            .collect();
        headers.push((HeaderName::from_static("x-amz-tagging"), value("tagging", &tagging.join("&"))?));
    }
    if let Some(encryption) = &options.encryption {
        headers.extend(encryption_headers(encryption)?);
    }
    if options.conditions.if_modified_since.is_some() || options.conditions.if_unmodified_since.is_some() {
        return Err(invalid(
            "if-modified-since and if-unmodified-since apply to reads; writes take if-match or if-none-match",
        ));
    }
    headers.extend(condition_headers(&options.conditions)?);
    Ok(headers)
}

/// The headers of GetObject and HeadObject (the range is added by the caller).
pub fn get_headers(options: &GetOptions) -> Result<Headers, S3Error> {
    let mut headers = condition_headers(&options.conditions)?;
    if let Some(key) = &options.customer_key {
        headers.extend(customer_key_headers(key)?);
    }
    Ok(headers)
}

fn condition_headers(conditions: &Conditions) -> Result<Headers, S3Error> {
    let mut headers = Headers::new();
    let all = [
        (IF_MATCH, "if-match", &conditions.if_match),
        (IF_NONE_MATCH, "if-none-match", &conditions.if_none_match),
        (IF_MODIFIED_SINCE, "if-modified-since", &conditions.if_modified_since),
        (IF_UNMODIFIED_SINCE, "if-unmodified-since", &conditions.if_unmodified_since),
    ];
    for (name, what, text) in all {
        if let Some(text) = text {
            headers.push((name, value(what, text)?));
        }
    }
    Ok(headers)
}

fn encryption_headers(encryption: &Encryption) -> Result<Headers, S3Error> {
    let sse = HeaderName::from_static("x-amz-server-side-encryption");
    Ok(match encryption {
        Encryption::S3Managed => vec![(sse, HeaderValue::from_static("AES256"))],
        Encryption::Kms(key_id) => {
            let mut headers = vec![(sse, HeaderValue::from_static("aws:kms"))];
            if let Some(key_id) = key_id {
                let name = HeaderName::from_static("x-amz-server-side-encryption-aws-kms-key-id");
                headers.push((name, value("KMS key id", key_id)?));
            }
            headers
        }
        Encryption::CustomerKey(key) => customer_key_headers(key)?,
    })
}

/// `x-amz-copy-source: /BUCKET/KEY` (the key percent-encoded), naming the source of a
/// CopyObject or UploadPartCopy.
pub fn copy_source(source: Object<'_>) -> Result<(HeaderName, HeaderValue), S3Error> {
    let path = format!("/{}/{}", source.bucket().name(), s3_connector_rules::encode_key(source.key()));
    Ok((HeaderName::from_static("x-amz-copy-source"), HeaderValue::from_str(&path).map_err(invalid)?))
}

/// `Content-MD5`, which S3 requires on DeleteObjects and PutObjectTagging.
pub fn content_md5(body: &[u8]) -> (HeaderName, HeaderValue) {
    let digest = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(body));
    // Base64 is always a valid header value.
    (
        HeaderName::from_static("content-md5"),
        HeaderValue::from_str(&digest).unwrap_or(HeaderValue::from_static("")),
    )
}

/// SSE-C: the algorithm, the key and its MD5, all three on every request that touches the object.
fn customer_key_headers(key: &[u8]) -> Result<Headers, S3Error> {
    if key.len() != 32 {
        // The key itself is never quoted, only its length.
        return Err(invalid(format!("the SSE-C key is {} bytes; AES-256 needs exactly 32", key.len())));
    }
    let base64 = base64::engine::general_purpose::STANDARD;
    let encoded = base64.encode(key);
    let digest = base64.encode(md5::Md5::digest(key));
    let header = |name: &'static str| HeaderName::from_static(name);
    Ok(vec![
        (header("x-amz-server-side-encryption-customer-algorithm"), HeaderValue::from_static("AES256")),
        (header("x-amz-server-side-encryption-customer-key"), value("SSE-C key", &encoded)?),
        (header("x-amz-server-side-encryption-customer-key-md5"), value("SSE-C key MD5", &digest)?),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(options: impl FnOnce(&mut PutOptions)) -> Result<Vec<(String, String)>, S3Error> {
        let mut o = PutOptions::default();
        options(&mut o);
        put_headers(&o)
            .map(|h| h.into_iter().map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned())).collect())
    }

    fn pair(name: &str, value: &str) -> (String, String) {
        (name.to_owned(), value.to_owned())
    }

    #[test]
    fn put_options_map_to_their_headers() {
        let table: Vec<(Box<dyn FnOnce(&mut PutOptions)>, Vec<(String, String)>)> = vec![
            (
                Box::new(|o| o.content_type = Some("text/plain".into())),
                vec![pair("content-type", "text/plain")],
            ),
            (
                Box::new(|o| o.content_disposition = Some("attachment; filename=\"a.pdf\"".into())),
                vec![pair("content-disposition", "attachment; filename=\"a.pdf\"")],
            ),
            (
                Box::new(|o| o.cache_control = Some("max-age=60".into())),
                vec![pair("cache-control", "max-age=60")],
            ),
            (Box::new(|o| o.content_encoding = Some("gzip".into())), vec![pair("content-encoding", "gzip")]),
            (
                Box::new(|o| o.storage_class = Some("STANDARD_IA".into())),
                vec![pair("x-amz-storage-class", "STANDARD_IA")],
            ),
            (
                Box::new(|o| o.metadata = vec![("Owner".into(), "ops".into())]),
                vec![pair("x-amz-meta-owner", "ops")],
            ),
            (
                Box::new(|o| o.tags = vec![("team".into(), "a b".into()), ("k/x".into(), "v&w".into())]),
                vec![pair("x-amz-tagging", "team=a%20b&k%2Fx=v%26w")],
            ),
            (
                Box::new(|o| o.encryption = Some(Encryption::S3Managed)),
                vec![pair("x-amz-server-side-encryption", "AES256")],
            ),
            (
                Box::new(|o| o.encryption = Some(Encryption::Kms(Some("key-1".into())))),
                vec![
                    pair("x-amz-server-side-encryption", "aws:kms"),
                    pair("x-amz-server-side-encryption-aws-kms-key-id", "key-1"),
                ],
            ),
            (Box::new(|o| o.conditions.if_none_match = Some("*".into())), vec![pair("if-none-match", "*")]),
            (Box::new(|o| o.conditions.if_match = Some("\"e1\"".into())), vec![pair("if-match", "\"e1\"")]),
        ];
        for (set, expected) in table {
            assert_eq!(put(set).unwrap(), expected);
        }
    }

    #[test]
    fn customer_keys_send_algorithm_key_and_digest() {
        let headers = put(|o| o.encryption = Some(Encryption::CustomerKey(vec![7; 32]))).unwrap();
        assert_eq!(headers[0], pair("x-amz-server-side-encryption-customer-algorithm", "AES256"));
        assert_eq!(headers[1].1, base64::engine::general_purpose::STANDARD.encode([7u8; 32]));
        assert_eq!(headers[2].0, "x-amz-server-side-encryption-customer-key-md5");
        let short = put(|o| o.encryption = Some(Encryption::CustomerKey(vec![1; 16]))).unwrap_err();
        assert!(matches!(short, S3Error::InvalidRequest(m) if m.contains("16 bytes") && m.contains("32")));
    }

    #[test]
    fn bad_options_are_refused_with_the_input_named() {
        let cases: Vec<(Box<dyn FnOnce(&mut PutOptions)>, &str)> = vec![
            (Box::new(|o| o.metadata = vec![("k".into(), "é".into())]), "printable ASCII"),
            (Box::new(|o| o.metadata = vec![("a b".into(), "v".into())]), "\"a b\""),
            (Box::new(|o| o.content_type = Some("text/plain\n".into())), "content type"),
            (
                Box::new(|o| o.conditions.if_modified_since = Some("Mon, 01 Jan 2024 00:00:00 GMT".into())),
                "apply to reads",
            ),
        ];
        for (set, fragment) in cases {
            let error = put(set).unwrap_err();
            assert!(matches!(&error, S3Error::InvalidRequest(m) if m.contains(fragment)), "{error:?}");
        }
    }

    #[test]
    fn get_options_send_conditions_and_the_customer_key() {
        let options = GetOptions {
            conditions: Conditions { if_none_match: Some("\"e1\"".into()), ..Conditions::default() },
            customer_key: Some(vec![1; 32]),
            ..GetOptions::default()
        };
        let names: Vec<String> =
            get_headers(&options).unwrap().into_iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(names[0], "if-none-match");
        assert_eq!(names.len(), 4);
    }
}
