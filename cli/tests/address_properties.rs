//! Properties of the S3 address parser and the policy, over random buckets and keys: requests
//! built the way the plugin builds them parse back to their bucket and key, and a key the
//! policy allows never reaches outside its prefix on a server that resolves dot segments.

use http::{HeaderMap, HeaderValue, Method, Uri};
use proptest::prelude::*;
use s3_connector_host::policy::dot_segments::{Reading, other_readings};
use s3_connector_host::policy::{S3Action, S3Request, s3_address};
use s3_connector_host::{Endpoint, Policy};
use s3_connector_rules::{encode_key, validate_bucket_name};

/// Bucket names S3 accepts.
fn bucket() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9.-]{1,40}[a-z0-9]".prop_filter("a valid bucket name", |b| validate_bucket_name(b).is_ok())
}

/// Keys of any characters, dot segments included.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-z./]{1,20}", "(\\.\\.?/|[^/]{0,3}/){1,8}"]
        .prop_filter("non-empty", |k| !k.is_empty())
}

fn get(uri: &str, headers: &HeaderMap, endpoint: &Endpoint) -> Result<S3Request, s3_address::AddressError> {
    s3_address::parse(&Method::GET, &uri.parse::<Uri>().unwrap(), headers, endpoint)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn path_style_requests_parse_back_to_their_bucket_and_key(bucket in bucket(), key in key()) {
        let endpoint = Endpoint::parse("http://127.0.0.1:9000").unwrap();
        let uri = format!("http://127.0.0.1:9000/{bucket}/{}", encode_key(&key));
        let parsed = get(&uri, &HeaderMap::new(), &endpoint).unwrap();
        prop_assert_eq!(parsed.action, S3Action::GetObject);
        prop_assert_eq!(parsed.bucket.as_deref(), Some(bucket.as_str()));
        prop_assert_eq!(parsed.key.as_deref(), Some(key.as_str()));
    }

    #[test]
    fn virtual_hosted_requests_parse_back_to_their_bucket_and_key(bucket in bucket(), key in key()) {
        let endpoint = Endpoint::parse("https://s3.eu-west-1.amazonaws.com").unwrap();
        let uri = format!("https://{bucket}.s3.eu-west-1.amazonaws.com/{}", encode_key(&key));
        let parsed = get(&uri, &HeaderMap::new(), &endpoint).unwrap();
        prop_assert_eq!(parsed.bucket.as_deref(), Some(bucket.as_str()));
        prop_assert_eq!(parsed.key.as_deref(), Some(key.as_str()));
    }

    #[test]
    fn copy_sources_parse_back_to_their_bucket_and_key(bucket in bucket(), key in key()) {
        let endpoint = Endpoint::parse("http://127.0.0.1:9000").unwrap();
        let mut headers = HeaderMap::new();
        let source = format!("/{bucket}/{}", encode_key(&key));
        headers.insert("x-amz-copy-source", HeaderValue::from_str(&source).unwrap());
        let uri = "http://127.0.0.1:9000/dst/k".parse::<Uri>().unwrap();
        let parsed = s3_address::parse(&Method::PUT, &uri, &headers, &endpoint).unwrap();
        prop_assert_eq!(parsed.action, S3Action::CopyObject);
        prop_assert_eq!(parsed.copy_source, Some((bucket, key)));
    }

    #[test]
    fn an_allowed_key_stays_under_its_prefix_on_every_reading(key in key()) {
        let policy = Policy::from_allow_flags(&["bkt/p/=read"]).unwrap();
        let key = format!("p/{key}");
        let request = S3Request::object(S3Action::GetObject, "bkt", &key);
        let readings = other_readings("bkt", &key);
        if policy.check(&request).is_ok() {
            for reading in &readings {
                let under = matches!(reading, Reading::Object { bucket, key } if bucket == "bkt" && key.starts_with("p/"));
                prop_assert!(under, "{} allowed, but read as {:?}", key, reading);
            }
        } else {
            // Only a reading outside the prefix denies a key that starts with it.
            prop_assert!(!readings.is_empty(), "{} denied without a reason", key);
        }
    }

    #[test]
    fn the_parser_answers_any_path_without_panicking(path in "/[ -~]{0,60}", method in "(GET|PUT|POST|DELETE|HEAD|PATCH)") {
        let endpoint = Endpoint::parse("http://127.0.0.1:9000").unwrap();
        if let Ok(uri) = format!("http://127.0.0.1:9000{path}").parse::<Uri>() {
            let method: Method = method.parse().unwrap();
            let _ = s3_address::parse(&method, &uri, &HeaderMap::new(), &endpoint);
        }
    }
}
