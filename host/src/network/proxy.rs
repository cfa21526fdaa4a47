//! Corporate proxies: which proxy a request to S3 goes through (`--proxy`, `HTTPS_PROXY`,
//! `HTTP_PROXY`, `NO_PROXY` and their lower-case forms, as curl and the SDKs read them), and
//! the proxy's credentials, which never show in Debug, errors or audit records. The egress
//! guard decides on the S3 request first: a denied request never reaches the proxy.

use crate::network::NetworkFailure;
use crate::secret::Secret;

/// The most a proxy's answer to `CONNECT` may hold before its end.
const MAX_CONNECT_ANSWER: usize = 8 * 1024;

/// A proxy setting that cannot be used; names the variable or flag, never the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    /// Not an `http://host:port` URL.
    #[error("{source_name} {url} is not a proxy URL such as http://proxy.example.com:3128: {reason}")]
    Invalid {
        /// The flag or variable.
        source_name: String,
        /// The URL with any password redacted.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

/// One proxy: where it listens and the credentials it wants, if any.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    /// `host:port` of the proxy.
    pub authority: String,
    /// `Proxy-Authorization: Basic ...` credentials from the URL's userinfo.
    credentials: Option<(String, Secret)>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

impl Proxy {
    /// Parses `http://[user[:password]@]host[:port]` (port 80 when absent), from `source_name`.
    pub fn parse(url: &str, source_name: &str) -> Result<Self, ProxyError> {
        let invalid = |reason: &str| ProxyError::Invalid {
            source_name: source_name.to_owned(),
            url: redact(url),
            reason: reason.to_owned(),
        };
        // A bare host:port is read as http://, as curl does.
        let rest = match url.split_once("://") {
            Some(("http", rest)) => rest,
            Some((_, _)) => {
                return Err(invalid("only http:// proxies are supported (https to the proxy is not)"));
            }
            None => url,
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains(['/', '?', '#']) {
            return Err(invalid("a proxy URL has no path or query"));
        }
        let (userinfo, host_port) = match rest.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, rest),
        };
        let authority: http::uri::Authority =
            host_port.parse().map_err(|_| invalid("the host is not valid"))?;
        if authority.host().is_empty() {
            return Err(invalid("the host is missing"));
        }
        let port = authority.port_u16().unwrap_or(80);
        let credentials = userinfo.map(|userinfo| {
            let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
            match userinfo.split_once(':') {
                Some((user, password)) => (decode(user), Secret::new(decode(password))),
                None => (decode(userinfo), Secret::new(String::new())),
            }
        });
        Ok(Self { authority: format!("{}:{port}", authority.host()), credentials })
    }

    /// `http://host:port`, with `user:<redacted>@` when it has credentials: for messages.
    pub fn display(&self) -> String {
        match &self.credentials {
            Some((user, _)) => format!("http://{user}:<redacted>@{}", self.authority),
            None => format!("http://{}", self.authority),
        }
    }

    /// The `Proxy-Authorization` header value, if the URL carried credentials.
    pub fn authorization(&self) -> Option<http::HeaderValue> {
        use base64::Engine;
        let (user, password) = self.credentials.as_ref()?;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", password.expose()));
        let mut value = http::HeaderValue::from_str(&format!("Basic {token}")).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

/// `url` with the password of its userinfo replaced, for messages about a URL that did not parse.
fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").map_or(("", url), |(s, r)| (s, r));
    let prefix = if scheme.is_empty() { String::new() } else { format!("{scheme}://") };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{prefix}{user}:<redacted>@{host}")
        }
        None => url.to_owned(),
    }
}

/// Which proxy, if any, each request goes through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    /// For `https` targets (through `CONNECT`).
    pub https: Option<Proxy>,
    /// For `http` targets (the request in absolute form).
    pub http: Option<Proxy>,
    /// Hosts reached directly (`NO_PROXY`).
    pub no_proxy: Vec<String>,
}

impl ProxySettings {
    /// `flag` (`--proxy`, for both schemes) else the environment through `lookup`: `https_proxy`
    /// then `HTTPS_PROXY`, `http_proxy` then `HTTP_PROXY` (lower case first, as curl and
    /// Python's urllib read them), and `no_proxy` then `NO_PROXY`.
    pub fn resolve(flag: Option<&str>, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ProxyError> {
        let first = |names: [&'static str; 2]| {
            names
                .into_iter()
                .find_map(|name| lookup(name).filter(|v| !v.trim().is_empty()).map(|v| (name, v)))
        };
        let parse = |found: Option<(&str, String)>| {
            found.map(|(name, url)| Proxy::parse(url.trim(), name)).transpose()
        };
        let (https, http) = match flag {
            Some(url) => {
                let proxy = Proxy::parse(url, "--proxy")?;
                (Some(proxy.clone()), Some(proxy))
            }
            None => {
                (parse(first(["https_proxy", "HTTPS_PROXY"]))?, parse(first(["http_proxy", "HTTP_PROXY"]))?)
            }
        };
        let no_proxy = first(["no_proxy", "NO_PROXY"])
            .map(|(_, list)| {
                list.split(',')
                    .map(|entry| entry.trim().to_ascii_lowercase())
                    .filter(|e| !e.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self { https, http, no_proxy })
    }

    /// The proxy for a request to `host` (no port, IPv6 without brackets) over `tls`, unless
    /// `NO_PROXY` lists it: `*`, the host itself, or a domain it is in (`example.com` and
    /// `.example.com` both cover `s3.example.com`). A `:port` in an entry is ignored.
    pub fn for_target(&self, tls: bool, host: &str) -> Option<&Proxy> {
        let proxy = if tls { self.https.as_ref() } else { self.http.as_ref() }?;
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let bypass = self.no_proxy.iter().any(|entry| {
            let entry = entry.trim_start_matches('[');
            let entry = match entry.split_once(']') {
                Some((v6, _)) => v6,
                None if entry.matches(':').count() == 1 => entry.split(':').next().unwrap_or(entry),
                None => entry,
            };
            let domain = entry.trim_start_matches("*.").trim_start_matches('.');
            entry == "*"
                || host == domain
                || host.strip_suffix(domain).is_some_and(|rest| rest.ends_with('.'))
        });
        (!bypass).then_some(proxy)
    }
}

/// Asks `proxy` (on `stream`, connected to it) for a tunnel to `authority` with `CONNECT`, and
/// reads its answer up to the end of its head, not a byte further: what follows belongs to the
/// TLS handshake. Every client of the host that goes through a proxy tunnels here.
pub async fn tunnel(
    mut stream: tokio::net::TcpStream,
    authority: &str,
    proxy: &Proxy,
) -> Result<tokio::net::TcpStream, NetworkFailure> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let refused = |status: u16| NetworkFailure::ProxyRefused {
        proxy: proxy.display(),
        host: authority.to_owned(),
        status,
    };
    let broken = |error: std::io::Error| NetworkFailure::ProxyConnect {
        proxy: proxy.display(),
        detail: error.to_string(),
    };
    let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n").into_bytes();
    if let Some(value) = proxy.authorization() {
        head.extend_from_slice(b"Proxy-Authorization: ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    stream.write_all(&head).await.map_err(broken)?;
    let mut answer = Vec::with_capacity(256);
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() >= MAX_CONNECT_ANSWER {
            return Err(refused(0));
        }
        answer.push(stream.read_u8().await.map_err(broken)?);
    }
    // "HTTP/1.1 200 Connection established"
    let status = std::str::from_utf8(&answer)
        .ok()
        .and_then(|text| text.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .unwrap_or(0);
    if (200..300).contains(&status) { Ok(stream) } else { Err(refused(status)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn lower_case_wins_the_flag_wins_over_both_and_no_proxy_matches_suffixes() {
        let lookup = env(&[
            ("https_proxy", "http://low:3128"),
            ("HTTPS_PROXY", "http://up:3128"),
            ("HTTP_PROXY", "up-plain:8080"),
            ("NO_PROXY", "internal.example, .corp.example:443, 10.0.0.1, [::1]"),
        ]);
        let settings = ProxySettings::resolve(None, &lookup).unwrap();
        assert_eq!(settings.https.as_ref().map(|p| p.authority.as_str()), Some("low:3128"));
        assert_eq!(settings.http.as_ref().map(|p| p.authority.as_str()), Some("up-plain:8080"));
        let through = |tls, host| settings.for_target(tls, host).map(|p| p.authority.clone());
        assert_eq!(through(true, "s3.us-east-1.amazonaws.com").as_deref(), Some("low:3128"));
        assert_eq!(through(false, "minio.local").as_deref(), Some("up-plain:8080"));
        for direct in
            ["internal.example", "s3.internal.example", "a.corp.example", "corp.example", "10.0.0.1", "::1"]
        {
            assert_eq!(through(true, direct), None, "{direct}");
        }
        assert!(through(true, "notinternal.example").is_some(), "a suffix must end at a dot");
        let flag = ProxySettings::resolve(Some("http://flag:1"), &lookup).unwrap();
        assert_eq!(flag.https.as_ref().map(|p| p.authority.as_str()), Some("flag:1"));
        assert_eq!(flag.http.as_ref().map(|p| p.authority.as_str()), Some("flag:1"));
        let all = ProxySettings::resolve(None, &env(&[("HTTPS_PROXY", "p:1"), ("no_proxy", "*")])).unwrap();
        assert!(all.for_target(true, "anything").is_none());
    }

    #[test]
    fn proxy_passwords_never_show() {
        let proxy = Proxy::parse("http://alice:PASS-SENTINEL%21@proxy.example:3128", "HTTPS_PROXY").unwrap();
        assert_eq!(format!("{proxy:?}"), "http://alice:<redacted>@proxy.example:3128");
        assert!(!proxy.display().contains("SENTINEL"));
        let header = proxy.authorization().unwrap();
        assert!(header.is_sensitive());
        let settings = ProxySettings { https: Some(proxy), ..Default::default() };
        assert!(!format!("{settings:?}").contains("SENTINEL"));
        let error = Proxy::parse("https://bob:PASS-SENTINEL@p:1", "--proxy").unwrap_err().to_string();
        assert!(
            error.contains("--proxy https://bob:<redacted>@p:1") && !error.contains("SENTINEL"),
            "{error}"
        );
        assert!(Proxy::parse("http://p:1/path", "HTTP_PROXY").is_err());
    }
}
