//! Corporate proxies: which proxy a request to S3 goes through (`--proxy`, `HTTPS_PROXY`,
//! `HTTP_PROXY`, `NO_PROXY` and their lower-case forms, as curl and the SDKs read them), and
//! the proxy's credentials, which never show in Debug, errors or audit records. The egress
//! guard decides on the S3 request first: a denied request never reaches the proxy.

use crate::network::NetworkFailure;
use crate::secrets::Secret;

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
            url: crate::secrets::redact::url(url),
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

/// The proxy settings of a `--config` file.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FileProxy {
    /// `proxy = URL`: for both schemes, as `--proxy`; beats the environment's proxies.
    pub proxy: Option<String>,
    /// `no_proxy = ["host", ".domain", "10.0.0.0/8"]` (each item may hold a comma-separated
    /// list): replaces `NO_PROXY` when present.
    pub no_proxy: Option<Vec<String>>,
}

impl std::fmt::Debug for FileProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileProxy")
            .field("proxy", &self.proxy.as_deref().map(crate::secrets::redact::url))
            .field("no_proxy", &self.no_proxy)
            .finish()
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
        Self::resolve_with_file(flag, &FileProxy::default(), lookup)
    }

    /// As [`ProxySettings::resolve`], with the `--config` file's settings between the flag and
    /// the environment, as for every other setting: `proxy` stands for both schemes' variables,
    /// `no_proxy` for `NO_PROXY`. (botocore takes proxies from the environment only, and reads
    /// just `proxy_ca_bundle`, `proxy_client_cert` and `proxy_use_forwarding_for_https` from the
    /// profile, all about TLS to an `https://` proxy, which this host does not speak.)
    pub fn resolve_with_file(
        flag: Option<&str>,
        file: &FileProxy,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ProxyError> {
        let first = |names: [&'static str; 2]| {
            names
                .into_iter()
                .find_map(|name| lookup(name).filter(|v| !v.trim().is_empty()).map(|v| (name, v)))
        };
        let parse = |found: Option<(&str, String)>| {
            found.map(|(name, url)| Proxy::parse(url.trim(), name)).transpose()
        };
        let given = match (flag, file.proxy.as_deref().filter(|p| !p.trim().is_empty())) {
            (Some(url), _) => Some(Proxy::parse(url, "--proxy")?),
            (None, Some(url)) => Some(Proxy::parse(url.trim(), "proxy in --config")?),
            (None, None) => None,
        };
        let (https, http) = match given {
            Some(proxy) => (Some(proxy.clone()), Some(proxy)),
            None => {
                (parse(first(["https_proxy", "HTTPS_PROXY"]))?, parse(first(["http_proxy", "HTTP_PROXY"]))?)
            }
        };
        let split = |list: &str| -> Vec<String> {
            list.split(',').map(|entry| entry.trim().to_ascii_lowercase()).filter(|e| !e.is_empty()).collect()
        };
        let no_proxy = match &file.no_proxy {
            Some(entries) => entries.iter().flat_map(|e| split(e)).collect(),
            None => first(["no_proxy", "NO_PROXY"]).map(|(_, list)| split(&list)).unwrap_or_default(),
        };
        Ok(Self { https, http, no_proxy })
    }

    /// The proxy for a request to `host` (no port, IPv6 without brackets) over `tls`, unless
    /// [`bypasses`] says `NO_PROXY` lists it.
    pub fn for_target(&self, tls: bool, host: &str) -> Option<&Proxy> {
        let proxy = if tls { self.https.as_ref() } else { self.http.as_ref() }?;
        (!bypasses(&self.no_proxy, host)).then_some(proxy)
    }
}

/// Whether `NO_PROXY`'s `entries` send a request to `host` (no port, IPv6 without brackets)
/// directly, as curl (7.86 and later) and Go's `x/net/http/httpproxy` read them: `*`; a name and
/// every name under it (`example.com` and `.example.com` both cover `s3.example.com`, a suffix
/// ending at a dot); an IP address, compared as an address (`::1` is `0:0::1`); a CIDR range
/// (`10.0.0.0/8`, `fd00::/8`) covering an IP host. Names never match IP hosts by suffix, nor
/// IP entries names (no resolving happens here). A `:port` in an entry is ignored. (Python's
/// urllib, and so botocore, match name suffixes only.)
pub fn bypasses(entries: &[String], host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host_ip = host.parse::<std::net::IpAddr>().ok();
    entries.iter().any(|entry| {
        let entry = entry.trim().to_ascii_lowercase();
        let entry = entry.trim_start_matches('[');
        let entry = match entry.split_once(']') {
            Some((v6, _)) => v6,
            None if entry.matches(':').count() == 1 => entry.split(':').next().unwrap_or(entry),
            None => entry,
        };
        if entry == "*" {
            return true;
        }
        if let Some((network, bits)) = entry.split_once('/') {
            return match (host_ip, network.parse::<std::net::IpAddr>(), bits.parse::<u8>()) {
                (Some(ip), Ok(network), Ok(bits)) => in_range(ip, network, bits),
                _ => false,
            };
        }
        match (host_ip, entry.parse::<std::net::IpAddr>()) {
            (Some(ip), Ok(listed)) => ip == listed,
            (Some(_), Err(_)) | (None, Ok(_)) => false,
            (None, Err(_)) => {
                let domain = entry.trim_start_matches("*.").trim_start_matches('.').trim_end_matches('.');
                !domain.is_empty()
                    && (host == domain || host.strip_suffix(domain).is_some_and(|rest| rest.ends_with('.')))
            }
        }
    })
}

/// Whether `ip` is in `network/bits` (both of one family; an out-of-range length matches nothing).
fn in_range(ip: std::net::IpAddr, network: std::net::IpAddr, bits: u8) -> bool {
    use std::net::IpAddr::{V4, V6};
    let same = |a: u128, b: u128, width: u8| bits <= width && (bits == 0 || (a ^ b) >> (width - bits) == 0);
    match (ip, network) {
        (V4(a), V4(b)) => same(u32::from(a).into(), u32::from(b).into(), 32),
        (V6(a), V6(b)) => same(u128::from(a), u128::from(b), 128),
        // An IPv4-mapped IPv6 host against an IPv4 range, as Go compares them.
        (V6(a), V4(b)) => {
            a.to_ipv4_mapped().is_some_and(|a| same(u32::from(a).into(), u32::from(b).into(), 32))
        }
        (V4(_), V6(_)) => false,
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
    fn no_proxy_matches_names_by_suffix_and_ips_by_address_and_cidr_range() {
        let list = |l: &str| l.split(',').map(|e| e.trim().to_owned()).collect::<Vec<_>>();
        // (NO_PROXY, host, bypassed)
        let table: &[(&str, &str, bool)] = &[
            ("*", "anything.example", true),
            ("*", "10.1.2.3", true),
            ("example.com", "example.com", true),
            ("example.com", "s3.example.com", true),
            (".example.com", "s3.example.com", true),
            (".example.com", "example.com", true),
            ("*.example.com", "a.b.example.com", true),
            ("example.com", "notexample.com", false),
            ("EXAMPLE.com:443", "S3.Example.COM.", true),
            ("10.0.0.1", "10.0.0.1", true),
            ("10.0.0.1", "10.0.0.10", false),
            // An IP entry is an address, never a name suffix.
            ("0.0.1", "10.0.0.1", false),
            ("0.1", "10.0.0.1", false),
            ("10.0.0.1", "host.10.0.0.1", false),
            ("10.0.0.0/8", "10.200.3.4", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("192.168.1.0/24", "192.168.1.255", true),
            ("192.168.1.0/24", "192.168.2.1", false),
            ("192.168.1.7/32", "192.168.1.7", true),
            ("192.168.1.7/32", "192.168.1.8", false),
            ("0.0.0.0/0", "203.0.113.9", true),
            ("10.0.0.0/33", "10.0.0.1", false),
            ("10.0.0.0/x", "10.0.0.1", false),
            // A range never matches a name (nothing is resolved here).
            ("10.0.0.0/8", "s3.internal", false),
            ("::1", "::1", true),
            ("[::1]:9000", "0:0:0:0:0:0:0:1", true),
            ("fd00::/8", "fd12:3456::1", true),
            ("fd00::/8", "fe80::1", false),
            ("2001:db8::/32", "2001:db8:ffff::5", true),
            ("2001:db8::/32", "2001:db9::5", false),
            // IPv4 ranges cover IPv4-mapped IPv6 hosts, as Go compares them; not the reverse.
            ("127.0.0.0/8", "::ffff:127.0.0.1", true),
            ("::ffff:0:0/96", "127.0.0.1", false),
            ("internal.example, 10.0.0.0/8", "10.9.9.9", true),
            ("", "example.com", false),
        ];
        for (no_proxy, host, want) in table {
            assert_eq!(bypasses(&list(no_proxy), host), *want, "NO_PROXY={no_proxy:?} host={host}");
        }
    }

    #[test]
    fn the_config_file_sits_between_the_flag_and_the_environment() {
        let lookup = env(&[
            ("HTTPS_PROXY", "http://env:1"),
            ("HTTP_PROXY", "http://env:2"),
            ("NO_PROXY", "env.example"),
        ]);
        let file = FileProxy {
            proxy: Some("http://file:3128".into()),
            no_proxy: Some(vec!["file.example, 10.0.0.0/8".into(), "[::1]".into()]),
        };
        let authority = |p: &Option<Proxy>| p.as_ref().map(|p| p.authority.clone());
        let from_file = ProxySettings::resolve_with_file(None, &file, &lookup).unwrap();
        assert_eq!(authority(&from_file.https).as_deref(), Some("file:3128"));
        assert_eq!(authority(&from_file.http).as_deref(), Some("file:3128"));
        assert_eq!(from_file.no_proxy, ["file.example", "10.0.0.0/8", "[::1]"]);
        let flag = ProxySettings::resolve_with_file(Some("http://flag:9"), &file, &lookup).unwrap();
        assert_eq!(authority(&flag.https).as_deref(), Some("flag:9"));
        // The file's no_proxy replaces NO_PROXY even with the flag; without it, NO_PROXY holds.
        assert_eq!(flag.no_proxy, ["file.example", "10.0.0.0/8", "[::1]"]);
        let env_only = ProxySettings::resolve_with_file(None, &FileProxy::default(), &lookup).unwrap();
        assert_eq!(authority(&env_only.https).as_deref(), Some("env:1"));
        assert_eq!(env_only.no_proxy, ["env.example"]);
        // An empty list in the file means "no exceptions", not "read NO_PROXY".
        let none = FileProxy { proxy: None, no_proxy: Some(vec![]) };
        assert!(ProxySettings::resolve_with_file(None, &none, &lookup).unwrap().no_proxy.is_empty());
        let bad = FileProxy { proxy: Some("socks5://u:PASS-SENTINEL@p:1".into()), no_proxy: None };
        let error = ProxySettings::resolve_with_file(None, &bad, &lookup).unwrap_err().to_string();
        assert!(error.starts_with("proxy in --config socks5://u:<redacted>@p:1"), "{error}");
        assert!(!format!("{bad:?}").contains("SENTINEL"));
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
