//! The S3 endpoint: scheme, host and port, parsed once and compared exactly.

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP, for local S3-compatible servers.
    Http,
    /// HTTPS.
    Https,
}

impl Scheme {
    /// 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// The S3 endpoint, parsed once from the host's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The scheme.
    pub scheme: Scheme,
    /// Host name or IP literal (IPv6 with its brackets).
    pub host: String,
    /// The port, when it is not the scheme's default.
    pub port: Option<u16>,
}

/// Why a URL is not an S3 endpoint. Each names the URL as given, without its userinfo (which
/// may hold a password), and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// Neither `http://` nor `https://`.
    #[error("endpoint {endpoint:?} must start with http:// or https://")]
    Scheme {
        /// The URL without userinfo.
        endpoint: String,
    },
    /// `user:password@` in the URL.
    #[error(
        "endpoint {endpoint:?} must not carry credentials (user:password@); give them as credentials, not in the URL"
    )]
    Credentials {
        /// The URL without userinfo.
        endpoint: String,
    },
    /// A path, query or fragment after the host, or no host.
    #[error("endpoint {endpoint:?} must be scheme://host[:port], without a path")]
    NotHostAndPort {
        /// The URL without userinfo.
        endpoint: String,
    },
    /// A port that is not a number from 0 to 65535.
    #[error("endpoint {endpoint:?} has an invalid port {port:?}")]
    Port {
        /// The URL without userinfo.
        endpoint: String,
        /// The port as given.
        port: String,
    },
}

impl Endpoint {
    /// Parses `scheme://host[:port]` (a trailing `/` is allowed, nothing else after the host).
    pub fn parse(url: &str) -> Result<Self, EndpointError> {
        // Every message quotes the URL without its userinfo, which may hold a password.
        let shown = without_userinfo(url);
        let (scheme, rest) = match url.split_once("://") {
            Some(("http", rest)) => (Scheme::Http, rest),
            Some(("https", rest)) => (Scheme::Https, rest),
            _ => return Err(EndpointError::Scheme { endpoint: shown }),
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.split('/').next().unwrap_or_default().contains('@') {
            return Err(EndpointError::Credentials { endpoint: shown });
        }
        if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
            return Err(EndpointError::NotHostAndPort { endpoint: shown });
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => {
                let port: u16 = port
                    .parse()
                    .map_err(|_| EndpointError::Port { endpoint: shown.clone(), port: port.to_owned() })?;
                (host, Some(port))
            }
            _ => (authority, None),
        };
        let default_port = match scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        Ok(Self { scheme, host: host.to_ascii_lowercase(), port: port.filter(|p| *p != default_port) })
    }

    /// The port in use, default or not.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }

    /// `http` or `https`.
    pub fn scheme_str(&self) -> &'static str {
        self.scheme.as_str()
    }

    /// The endpoint as a URL, for messages.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme_str(), self.authority())
    }

    /// `host[:port]`, the form SigV4 signs and HTTP sends.
    pub fn authority(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }

    /// True for IP literals and `localhost`, where virtual-hosted addressing cannot work.
    pub fn host_is_ip_or_local(&self) -> bool {
        self.host.starts_with('[')
            || self.host.parse::<std::net::Ipv4Addr>().is_ok()
            || self.host == "localhost"
    }

    /// True when the host is AWS's own (`amazonaws.com`, `amazonaws.com.cn` and their
    /// subdomains): there, region names must be AWS's (see [`crate::check_aws_region`]).
    pub fn is_aws(&self) -> bool {
        let host = self.host.trim_end_matches('.');
        ["amazonaws.com", "amazonaws.com.cn"].iter().any(|domain| {
            host == *domain || host.strip_suffix(domain).is_some_and(|rest| rest.ends_with('.'))
        })
    }
}

/// `url` with the userinfo of its authority (`user:password@`) replaced by `<redacted>@`.
fn without_userinfo(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let prefix = if scheme.is_empty() { String::new() } else { format!("{scheme}://") };
            format!("{prefix}<redacted>{}", &rest[at..])
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_and_drop_default_ports() {
        let table: &[(&str, Result<(&str, Option<u16>), &str>)] = &[
            ("http://127.0.0.1:9000", Ok(("127.0.0.1", Some(9000)))),
            ("https://s3.us-east-1.amazonaws.com/", Ok(("s3.us-east-1.amazonaws.com", None))),
            ("https://S3.example.com:443", Ok(("s3.example.com", None))),
            ("http://[::1]:8080", Ok(("[::1]", Some(8080)))),
            ("ftp://x", Err("must start with http")),
            ("http://x/path", Err("without a path")),
            ("http://x:port", Err("invalid port")),
            (
                "http://user:pa55word@host:9000",
                Err("\"http://<redacted>@host:9000\" must not carry credentials"),
            ),
            ("ftp://user:pa55word@host", Err("\"ftp://<redacted>@host\" must start with http")),
            ("http://user:pa55word@host:bad/x", Err("\"http://<redacted>@host:bad/x\"")),
        ];
        for (url, expected) in table {
            match (Endpoint::parse(url), expected) {
                (Ok(ep), Ok((host, port))) => {
                    assert_eq!((ep.host.as_str(), ep.port), (*host, *port), "{url}")
                }
                (Err(e), Err(fragment)) => {
                    let e = e.to_string();
                    assert!(e.contains(fragment), "{url}: {e}");
                    assert!(!e.contains("pa55word"), "{url}: the password is quoted: {e}");
                }
                (got, _) => panic!("{url}: {got:?}"),
            }
        }
    }

    #[test]
    fn aws_hosts_are_recognised() {
        let table: &[(&str, bool)] = &[
            ("https://s3.us-east-1.amazonaws.com", true),
            ("https://s3.amazonaws.com", true),
            ("https://bucket.s3.cn-north-1.amazonaws.com.cn", true),
            ("https://s3.eu-west-1.amazonaws.com.", true),
            ("https://notamazonaws.com", false),
            ("https://amazonaws.com.evil.example", false),
            ("http://127.0.0.1:9000", false),
            ("https://r2.cloudflarestorage.com", false),
        ];
        for (url, aws) in table {
            assert_eq!(Endpoint::parse(url).unwrap().is_aws(), *aws, "{url}");
        }
    }
}
