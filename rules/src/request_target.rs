//! Where each request goes: path-style or virtual-hosted addressing. The plugin addresses the
//! requests it sends, the host the URLs it presigns; one rule keeps them the same.

use crate::endpoint::{Endpoint, Scheme};
use crate::key::{encode_key, encode_query_component};

/// Where one request goes, in the parts `wasi:http` takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The scheme.
    pub scheme: Scheme,
    /// `host[:port]`, with the bucket in front for virtual-hosted addressing.
    pub authority: String,
    /// The encoded path and query.
    pub path_and_query: String,
}

impl Target {
    /// The whole URL, as SigV4 signs it.
    pub fn url(&self) -> String {
        format!("{}://{}{}", self.scheme.as_str(), self.authority, self.path_and_query)
    }
}

/// Builds the target of a request to `bucket` (none: the service, as for ListBuckets) and `key`.
///
/// Virtual-hosted addressing falls back to path-style where it cannot work: endpoints that are
/// IP literals or `localhost`, and dotted bucket names over HTTPS (the certificate would not
/// match), as the AWS SDKs do.
pub fn target(
    endpoint: &Endpoint,
    path_style: bool,
    bucket: Option<&str>,
    key: Option<&str>,
    query: &[(&str, String)],
) -> Target {
    let virtual_hosted = match bucket {
        Some(bucket) => {
            let dotted_over_tls = endpoint.scheme == Scheme::Https && bucket.contains('.');
            !(path_style || endpoint.host_is_ip_or_local() || dotted_over_tls)
        }
        None => false,
    };
    let mut authority = endpoint.authority();
    let mut path = String::from("/");
    match (bucket, virtual_hosted) {
        (Some(bucket), true) => authority = format!("{bucket}.{authority}"),
        (Some(bucket), false) => {
            path.push_str(bucket);
            if key.is_some() {
                path.push('/');
            }
        }
        (None, _) => {}
    }
    if let Some(key) = key {
        path.push_str(&encode_key(key));
    }
    for (i, (name, value)) in query.iter().enumerate() {
        path.push(if i == 0 { '?' } else { '&' });
        path.push_str(&encode_query_component(name));
        if !value.is_empty() {
            path.push('=');
            path.push_str(&encode_query_component(value));
        }
    }
    Target { scheme: endpoint.scheme, authority, path_and_query: path }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_for_each_addressing_style() {
        let aws = Endpoint::parse("https://s3.eu-west-1.amazonaws.com").unwrap();
        let local = Endpoint::parse("http://127.0.0.1:9000").unwrap();
        let q = |pairs: &[(&'static str, &str)]| {
            pairs.iter().map(|(k, v)| (*k, v.to_string())).collect::<Vec<_>>()
        };
        let table = [
            (
                &aws,
                false,
                Some("bkt"),
                Some("a b/c"),
                q(&[]),
                "https://bkt.s3.eu-west-1.amazonaws.com/a%20b/c",
            ),
            (
                &aws,
                true,
                Some("bkt"),
                Some("a b/c"),
                q(&[]),
                "https://s3.eu-west-1.amazonaws.com/bkt/a%20b/c",
            ),
            (&aws, false, Some("my.bkt"), Some("k"), q(&[]), "https://s3.eu-west-1.amazonaws.com/my.bkt/k"),
            (&aws, false, None, None, q(&[]), "https://s3.eu-west-1.amazonaws.com/"),
            (
                &local,
                false,
                Some("bkt"),
                None,
                q(&[("list-type", "2"), ("prefix", "a/b")]),
                "http://127.0.0.1:9000/bkt?list-type=2&prefix=a%2Fb",
            ),
            (
                &local,
                true,
                Some("bkt"),
                Some("//x"),
                q(&[("uploads", "")]),
                "http://127.0.0.1:9000/bkt///x?uploads",
            ),
        ];
        for (endpoint, path_style, bucket, key, query, url) in table {
            assert_eq!(target(endpoint, path_style, bucket, key, &query).url(), url);
        }
    }
}
