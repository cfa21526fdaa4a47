//! Where the plugin connects: endpoint, region and addressing style, resolved from flags, a
//! config file and the standard AWS environment variables, in that order.

pub use s3_connector_rules::{Endpoint, EndpointError, RegionError};
use s3_connector_rules::{check_aws_region, endpoint_names_region};

use crate::network::NetworkSettings;

/// The region when nothing says otherwise.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Why a connection's settings do not resolve: each names the input and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    /// Not a region name at all.
    #[error("region {0:?} is not a region name such as us-east-1")]
    RegionName(String),
    /// An AWS endpoint with a region AWS does not have.
    #[error(transparent)]
    Region(#[from] RegionError),
    /// The endpoint is not `scheme://host[:port]`.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// FIPS or dual-stack asked for explicitly together with an endpoint of one's own.
    #[error(
        "{flag} cannot be combined with an explicit endpoint ({endpoint}): as in the AWS SDKs, a custom \
         endpoint cannot be combined with {variant}; drop one of them"
    )]
    VariantWithEndpoint {
        /// The flag that asked for it.
        flag: &'static str,
        /// The endpoint given.
        endpoint: String,
        /// `FIPS` or `dual-stack`.
        variant: &'static str,
    },
    /// FIPS in the China partition, which has no FIPS endpoints.
    #[error("AWS has no FIPS endpoint in the China partition (region {region}); {undo}")]
    NoFipsInChina {
        /// The region.
        region: String,
        /// How to undo what turned FIPS on.
        undo: &'static str,
    },
}

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
        let endpoint = Endpoint::parse(&aws_host(region, AwsVariant::default()).unwrap_or_default())
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
    ) -> Result<Self, ConnectionError> {
        Self::resolve_with_switches(endpoint, region, path_style, EndpointSwitches::default(), lookup)
    }

    /// As [`Connection::resolve`], with FIPS and dual-stack switches given explicitly (the CLI's
    /// `--use-fips-endpoint` / `--use-dualstack-endpoint`), which beat `AWS_USE_FIPS_ENDPOINT` /
    /// `AWS_USE_DUALSTACK_ENDPOINT` (and the profile's keys behind them in `lookup`). A switch
    /// turned on explicitly together with an endpoint from anywhere is refused, as the SDKs'
    /// S3 endpoint rules refuse FIPS or dual-stack with a custom endpoint.
    pub fn resolve_with_switches(
        endpoint: Option<&str>,
        region: Option<&str>,
        path_style: bool,
        switches: EndpointSwitches,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConnectionError> {
        let nonempty = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let region = region
            .map(str::to_owned)
            .or_else(|| nonempty("AWS_REGION"))
            .or_else(|| nonempty("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
        if region.is_empty() || !region.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(ConnectionError::RegionName(region));
        }
        let endpoint = endpoint
            .map(str::to_owned)
            .or_else(|| nonempty("AWS_ENDPOINT_URL_S3"))
            .or_else(|| nonempty("AWS_ENDPOINT_URL"));
        let endpoint_given = endpoint.is_some();
        if let Some(url) = &endpoint {
            let asked = [
                (switches.fips, "--use-fips-endpoint", "FIPS"),
                (switches.dual_stack, "--use-dualstack-endpoint", "dual-stack"),
            ];
            if let Some((_, flag, variant)) = asked.iter().find(|(on, _, _)| *on == Some(true)) {
                return Err(ConnectionError::VariantWithEndpoint { flag, endpoint: url.clone(), variant });
            }
        }
        let connection = match endpoint {
            Some(url) => Self {
                endpoint: Endpoint::parse(&url)?,
                region,
                path_style,
                network: NetworkSettings::default(),
            },
            None => {
                // The SDKs' switches apply only to the endpoint they choose themselves.
                let variant = switches.variant(&lookup);
                if variant.fips && region.starts_with("cn-") {
                    // Name what turned FIPS on, so that the advice undoes what was given.
                    let undo = match switches.fips {
                        Some(true) => "drop --use-fips-endpoint",
                        _ => "unset AWS_USE_FIPS_ENDPOINT (or the profile's use_fips_endpoint)",
                    };
                    return Err(ConnectionError::NoFipsInChina { region, undo });
                }
                let url = aws_host(&region, variant)?;
                Self { endpoint: Endpoint::parse(&url)?, path_style, ..Self::aws(&region) }
            }
        };
        let named = endpoint_names_region(&connection.endpoint.host, &connection.region);
        if connection.endpoint.is_aws() && !(endpoint_given && named) {
            check_aws_region(&connection.region)?;
        }
        Ok(connection)
    }
}

/// The FIPS and dual-stack switches given explicitly (flags or an embedder's settings); `None`
/// leaves the choice to the environment and the profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointSwitches {
    /// `--use-fips-endpoint`.
    pub fips: Option<bool>,
    /// `--use-dualstack-endpoint`.
    pub dual_stack: Option<bool>,
}

impl EndpointSwitches {
    /// The variant in force: each switch if given, else `AWS_USE_FIPS_ENDPOINT` /
    /// `AWS_USE_DUALSTACK_ENDPOINT` through `lookup` (`true`, in any case, turns one on).
    pub fn variant(&self, lookup: &dyn Fn(&str) -> Option<String>) -> AwsVariant {
        let on = |name: &str| lookup(name).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        AwsVariant {
            fips: self.fips.unwrap_or_else(|| on("AWS_USE_FIPS_ENDPOINT")),
            dual_stack: self.dual_stack.unwrap_or_else(|| on("AWS_USE_DUALSTACK_ENDPOINT")),
        }
    }
}

/// Which of AWS's S3 endpoints of a region: FIPS 140 validated, dual-stack (IPv4 and IPv6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AwsVariant {
    /// `AWS_USE_FIPS_ENDPOINT=true`.
    pub fips: bool,
    /// `AWS_USE_DUALSTACK_ENDPOINT=true`.
    pub dual_stack: bool,
}

/// The URL of AWS's S3 endpoint of `region` in `variant`, as AWS documents them
/// (docs.aws.amazon.com/general/latest/gr/s3.html): `s3[-fips][.dualstack].REGION.amazonaws.com`,
/// `amazonaws.com.cn` in the China partition, which has no FIPS endpoints.
pub fn aws_host(region: &str, variant: AwsVariant) -> Result<String, ConnectionError> {
    let china = region.starts_with("cn-");
    if china && variant.fips {
        return Err(ConnectionError::NoFipsInChina {
            region: region.to_owned(),
            undo: "unset AWS_USE_FIPS_ENDPOINT",
        });
    }
    let service = if variant.fips { "s3-fips" } else { "s3" };
    let dual_stack = if variant.dual_stack { ".dualstack" } else { "" };
    let domain = if china { "amazonaws.com.cn" } else { "amazonaws.com" };
    Ok(format!("https://{service}{dual_stack}.{region}.{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fips_dual_stack_and_china_endpoints_are_the_ones_aws_publishes() {
        // Host names as AWS's S3 endpoint list gives them (docs.aws.amazon.com/general/latest/gr/s3.html).
        let table: &[(&str, &[(&str, &str)], Result<&str, &str>)] = &[
            ("us-east-1", &[], Ok("https://s3.us-east-1.amazonaws.com")),
            (
                "us-east-1",
                &[("AWS_USE_FIPS_ENDPOINT", "true")],
                Ok("https://s3-fips.us-east-1.amazonaws.com"),
            ),
            (
                "eu-west-1",
                &[("AWS_USE_DUALSTACK_ENDPOINT", "true")],
                Ok("https://s3.dualstack.eu-west-1.amazonaws.com"),
            ),
            (
                "us-west-2",
                &[("AWS_USE_FIPS_ENDPOINT", "TRUE"), ("AWS_USE_DUALSTACK_ENDPOINT", "true")],
                Ok("https://s3-fips.dualstack.us-west-2.amazonaws.com"),
            ),
            (
                "us-gov-west-1",
                &[("AWS_USE_FIPS_ENDPOINT", "true")],
                Ok("https://s3-fips.us-gov-west-1.amazonaws.com"),
            ),
            ("cn-north-1", &[], Ok("https://s3.cn-north-1.amazonaws.com.cn")),
            (
                "cn-northwest-1",
                &[("AWS_USE_DUALSTACK_ENDPOINT", "true")],
                Ok("https://s3.dualstack.cn-northwest-1.amazonaws.com.cn"),
            ),
            (
                "cn-north-1",
                &[("AWS_USE_FIPS_ENDPOINT", "true")],
                Err("no FIPS endpoint in the China partition"),
            ),
            ("us-east-1", &[("AWS_USE_FIPS_ENDPOINT", "false")], Ok("https://s3.us-east-1.amazonaws.com")),
        ];
        for (region, env, want) in table {
            let lookup = |name: &str| env.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned());
            match (Connection::resolve(None, Some(region), false, lookup), want) {
                (Ok(c), Ok(url)) => assert_eq!(c.endpoint.url(), *url, "{region} {env:?}"),
                (Err(e), Err(part)) => assert!(e.to_string().contains(part), "{region} {env:?}: {e}"),
                (got, _) => panic!("{region} {env:?}: {got:?}"),
            }
        }
        // An explicit endpoint wins: the switches do not rewrite it.
        let fips = |name: &str| (name == "AWS_USE_FIPS_ENDPOINT").then(|| "true".to_owned());
        let c = Connection::resolve(Some("https://minio.example.com"), None, false, fips).unwrap();
        assert_eq!(c.endpoint.url(), "https://minio.example.com");
    }

    #[test]
    fn switch_flags_beat_the_environment_which_beats_the_profile_and_refuse_custom_endpoints() {
        use crate::credentials::ProfileSettings;
        let profile = ProfileSettings {
            use_fips_endpoint: Some("true".into()),
            use_dualstack_endpoint: Some("false".into()),
            ..Default::default()
        };
        let table: &[(Option<bool>, Option<bool>, &[(&str, &str)], bool, &str)] = &[
            // (fips flag, dual-stack flag, environment, profile in force, host)
            (None, None, &[], false, "https://s3.eu-west-1.amazonaws.com"),
            (None, None, &[], true, "https://s3-fips.eu-west-1.amazonaws.com"),
            (None, None, &[("AWS_USE_FIPS_ENDPOINT", "false")], true, "https://s3.eu-west-1.amazonaws.com"),
            (
                Some(true),
                None,
                &[("AWS_USE_FIPS_ENDPOINT", "false")],
                true,
                "https://s3-fips.eu-west-1.amazonaws.com",
            ),
            (
                Some(false),
                None,
                &[("AWS_USE_FIPS_ENDPOINT", "true")],
                true,
                "https://s3.eu-west-1.amazonaws.com",
            ),
            (None, Some(true), &[], false, "https://s3.dualstack.eu-west-1.amazonaws.com"),
            (
                None,
                Some(true),
                &[("AWS_USE_DUALSTACK_ENDPOINT", "false")],
                true,
                "https://s3-fips.dualstack.eu-west-1.amazonaws.com",
            ),
            (
                Some(false),
                Some(false),
                &[("AWS_USE_DUALSTACK_ENDPOINT", "true")],
                true,
                "https://s3.eu-west-1.amazonaws.com",
            ),
        ];
        let empty = ProfileSettings::default();
        for (fips, dual_stack, env, with_profile, want) in table {
            let lookup = |name: &str| env.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned());
            let profile = if *with_profile { &profile } else { &empty };
            let switches = EndpointSwitches { fips: *fips, dual_stack: *dual_stack };
            let c = Connection::resolve_with_switches(
                None,
                Some("eu-west-1"),
                false,
                switches,
                profile.env_fallback(lookup),
            )
            .unwrap();
            assert_eq!(c.endpoint.url(), *want, "{fips:?} {dual_stack:?} {env:?} {with_profile}");
        }
        // An explicit switch with an endpoint from anywhere: refused, naming the flag.
        let on = EndpointSwitches { fips: Some(true), dual_stack: None };
        let error =
            Connection::resolve_with_switches(Some("https://minio.example"), None, false, on, |_| None)
                .unwrap_err()
                .to_string();
        assert!(
            error.starts_with(
                "--use-fips-endpoint cannot be combined with an explicit endpoint (https://minio.example)"
            ),
            "{error}"
        );
        let env = |name: &str| (name == "AWS_ENDPOINT_URL").then(|| "http://127.0.0.1:9".to_owned());
        let dual = EndpointSwitches { fips: None, dual_stack: Some(true) };
        let error = Connection::resolve_with_switches(None, None, false, dual, env).unwrap_err().to_string();
        assert!(error.contains("--use-dualstack-endpoint") && error.contains("dual-stack"), "{error}");
        // Switched off explicitly: nothing to refuse.
        let off = EndpointSwitches { fips: Some(false), dual_stack: Some(false) };
        assert!(
            Connection::resolve_with_switches(Some("https://minio.example"), None, false, off, |_| None)
                .is_ok()
        );
    }

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
        assert!(
            Connection::resolve(Some("ftp://x"), None, false, env(&[]))
                .unwrap_err()
                .to_string()
                .contains("http://")
        );
        assert!(
            Connection::resolve(None, Some("eu west"), false, env(&[]))
                .unwrap_err()
                .to_string()
                .contains("\"eu west\"")
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
                (Err(e), Err(want)) => assert_eq!(e.to_string(), *want, "{region}"),
                (got, _) => panic!("{endpoint:?} {region}: {got:?}"),
            }
        }
        // The environment's region is checked the same way.
        let env = |name: &str| (name == "AWS_REGION").then(|| "eu-centrl-1".to_owned());
        let error = Connection::resolve(None, None, false, env).unwrap_err().to_string();
        assert!(error.contains(r#"did you mean "eu-central-1"?"#), "{error}");
    }
}
