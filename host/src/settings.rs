//! Where the plugin connects: endpoint, region and addressing style, resolved from flags, a
//! config file and the standard AWS environment variables, in that order.

pub use s3_connector_rules::Endpoint;
use s3_connector_rules::{check_aws_region, endpoint_names_region};

use crate::network::NetworkSettings;

/// The region when nothing says otherwise.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The S3 connection every call of a [`crate::Connector`] uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The endpoint; the host denies requests to anything else.
    pub endpoint: Endpoint,
    /// The signing region.
    pub region: String,
    /// Path-style addressing instead of virtual-hosted.
    pub path_style: bool,
    /// Trust and timeouts ([`NetworkSettings::default`]: the system's trust store and the
    /// default timeouts).
    pub network: NetworkSettings,
}

impl Connection {
    /// AWS's S3 endpoint of `region`, virtual-hosted.
    pub fn aws(region: &str) -> Self {
        let endpoint = Endpoint::parse(&format!("https://s3.{region}.amazonaws.com"))
            .unwrap_or_else(|_| Endpoint::parse("https://s3.amazonaws.com").expect("a constant, valid URL"));
        Self { endpoint, region: region.to_owned(), path_style: false, network: NetworkSettings::default() }
    }

    /// The same connection with other trust and timeouts.
    pub fn with_network(mut self, network: NetworkSettings) -> Self {
        self.network = network;
        self
    }

    /// Resolves the connection: explicit values first, then `AWS_ENDPOINT_URL_S3`,
    /// `AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_DEFAULT_REGION` through `lookup`, then defaults.
    ///
    /// Against AWS (no endpoint, or an `amazonaws.com` one) the region must be an AWS region, and
    /// a typo gets the nearest name suggested; an AWS endpoint that names the region itself
    /// (`https://s3.NEW-REGION.amazonaws.com`) lets a region newer than the list through. Any
    /// other endpoint accepts any region name.
    pub fn resolve(
        endpoint: Option<&str>,
        region: Option<&str>,
        path_style: bool,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let nonempty = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let region = region
            .map(str::to_owned)
            .or_else(|| nonempty("AWS_REGION"))
            .or_else(|| nonempty("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
        if region.is_empty() || !region.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!("region {region:?} is not a region name such as us-east-1"));
        }
        let endpoint = endpoint
            .map(str::to_owned)
            .or_else(|| nonempty("AWS_ENDPOINT_URL_S3"))
            .or_else(|| nonempty("AWS_ENDPOINT_URL"));
        let endpoint_given = endpoint.is_some();
        let connection = match endpoint {
            Some(url) => Self {
                endpoint: Endpoint::parse(&url)?,
                region,
                path_style,
                network: NetworkSettings::default(),
            },
            None => Self { path_style, ..Self::aws(&region) },
        };
        let named = endpoint_names_region(&connection.endpoint.host, &connection.region);
        if connection.endpoint.is_aws() && !(endpoint_given && named) {
            check_aws_region(&connection.region).map_err(|e| e.to_string())?;
        }
        Ok(connection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_environment_which_beats_defaults() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        };
        let all = env(&[
            ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:2"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "eu-west-2"),
        ]);
        let c = Connection::resolve(Some("http://127.0.0.1:9"), Some("ap-south-1"), true, all).unwrap();
        assert_eq!(
            (c.endpoint.url().as_str(), c.region.as_str(), c.path_style),
            ("http://127.0.0.1:9", "ap-south-1", true)
        );
        let c = Connection::resolve(None, None, false, all).unwrap();
        assert_eq!((c.endpoint.url().as_str(), c.region.as_str()), ("http://127.0.0.1:1", "eu-west-1"));
        let c = Connection::resolve(
            None,
            None,
            false,
            env(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:2"), ("AWS_DEFAULT_REGION", "eu-west-2")]),
        )
        .unwrap();
        assert_eq!((c.endpoint.url().as_str(), c.region.as_str()), ("http://127.0.0.1:2", "eu-west-2"));
        let c = Connection::resolve(None, None, false, env(&[])).unwrap();
        assert_eq!(
            (c.endpoint.url().as_str(), c.region.as_str()),
            ("https://s3.us-east-1.amazonaws.com", "us-east-1")
        );
        assert!(Connection::resolve(Some("ftp://x"), None, false, env(&[])).unwrap_err().contains("http://"));
        assert!(
            Connection::resolve(None, Some("eu west"), false, env(&[])).unwrap_err().contains("\"eu west\"")
        );
    }

    #[test]
    fn aws_endpoints_need_aws_regions_and_others_take_any() {
        let none = |_: &str| None;
        let table: &[(Option<&str>, &str, Result<&str, &str>)] = &[
            (None, "us-east-1", Ok("https://s3.us-east-1.amazonaws.com")),
            (None, "mx-central-1", Ok("https://s3.mx-central-1.amazonaws.com")),
            (None, "us-est-1", Err(r#"region "us-est-1" is not an AWS region; did you mean "us-east-1"?"#)),
            (
                Some("https://s3.eu-west-1.amazonaws.com"),
                "eu-wset-1",
                Err(r#"region "eu-wset-1" is not an AWS region; did you mean "eu-west-1"?"#),
            ),
            // A region newer than the list, named in the endpoint as well: taken as meant.
            (Some("https://s3.xx-new-1.amazonaws.com"), "xx-new-1", Ok("https://s3.xx-new-1.amazonaws.com")),
            (Some("http://127.0.0.1:9000"), "us-est-1", Ok("http://127.0.0.1:9000")),
            (Some("https://minio.example.com"), "garage", Ok("https://minio.example.com")),
        ];
        for (endpoint, region, expected) in table {
            let got = Connection::resolve(*endpoint, Some(region), false, none).map(|c| c.endpoint.url());
            match (got, expected) {
                (Ok(url), Ok(want)) => assert_eq!(url, *want, "{region}"),
                (Err(e), Err(want)) => assert_eq!(e, *want, "{region}"),
                (got, _) => panic!("{endpoint:?} {region}: {got:?}"),
            }
        }
        // The environment's region is checked the same way.
        let env = |name: &str| (name == "AWS_REGION").then(|| "eu-centrl-1".to_owned());
        let error = Connection::resolve(None, None, false, env).unwrap_err();
        assert!(error.contains(r#"did you mean "eu-central-1"?"#), "{error}");
    }
}
