//! The bodies of the fuzz targets in `fuzz/` (not a supported API): the host's parsers of
//! untrusted input, each with the invariants it must keep. They live here so that the normal
//! build compiles them and `cli/tests/fuzz_seeds.rs` runs the committed corpus through them
//! on the stable toolchain; the fuzz targets only call them.

use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use s3_connector_rules::validate_bucket_name;

use crate::policy::{Policy, S3Action, parse_allow, s3_address};
use crate::settings::Endpoint;

/// The endpoints requests are parsed against: path-style on an IP, virtual-hosted on AWS.
const ENDPOINTS: [&str; 2] = ["http://127.0.0.1:9000", "https://s3.eu-west-1.amazonaws.com"];

/// A request as text: the method on the first line, the URI on the second, then `name: value`
/// headers. Parsed against both endpoints; whatever it classifies names a valid bucket, keeps
/// a copy source only on copies, and goes through the policy check without a panic.
pub fn s3_address(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.lines();
    let (Some(method), Some(uri)) = (lines.next(), lines.next()) else { return };
    let (Ok(method), Ok(parsed_uri)) = (method.parse::<Method>(), uri.parse::<Uri>()) else { return };
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name.trim().as_bytes()), HeaderValue::from_str(value.trim()))
        {
            headers.append(name, value);
        }
    }
    let policy = Policy::from_allow_flags(&["bkt/in/=read,write,delete,list", "*=list"]);
    for endpoint in ENDPOINTS {
        let Ok(endpoint) = Endpoint::parse(endpoint) else { return };
        let _ = s3_address::parse_presigned(&method, uri, &endpoint);
        let Ok(request) = s3_address::parse(&method, &parsed_uri, &headers, &endpoint) else { continue };
        if let Some(bucket) = &request.bucket {
            assert!(validate_bucket_name(bucket).is_ok(), "parsed an invalid bucket {bucket:?}");
        }
        if request.copy_source.is_some() {
            assert!(matches!(request.action, S3Action::CopyObject | S3Action::UploadPartCopy), "{request:?}");
        }
        let _ = Policy::allow_all().decide(&request);
        if let Ok(policy) = &policy {
            let _ = policy.decide(&request);
        }
    }
}

/// A `--allow` flag (the CLI fuzzes its configuration file, `s3_connector_cli::fuzzing`). A rule
/// that parses shows as a flag that
/// parses back to the same rule.
pub fn policy_config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(rule) = parse_allow(&text) {
        let shown = rule.to_string();
        let again = parse_allow(&shown).unwrap_or_else(|e| panic!("{text:?} shows as {shown:?}: {e}"));
        assert_eq!(again, rule, "{text:?} shows as {shown:?}");
    }
}
