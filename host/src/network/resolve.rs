//! Name resolution overrides, as curl's `--resolve HOST:PORT:ADDR`: the S3 connection pool dials
//! the given addresses for a host and port instead of asking the system's resolver. This is how
//! a virtual-hosted endpoint whose names are not in DNS (a private S3 server reached by a name
//! its certificate lists, or the test suite's `*.s3.connector.test` on 127.0.0.1) is reached,
//! while the URL, the `Host` header, TLS's SNI and the certificate name check all keep the
//! name. The policy never sees these: it decides on the request's URL, before any connection.

use std::net::{IpAddr, SocketAddr};

/// An override that cannot be used; names the flag or setting it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// Not `HOST:PORT:ADDR[,ADDR...]`.
    #[error(
        "{source_name} {entry:?} is not HOST:PORT:ADDRESS[,ADDRESS...] (for example \
         s3.example.test:443:127.0.0.1, *.s3.example.test:443:127.0.0.1 or *:443:[::1]): {reason}"
    )]
    Invalid {
        /// The flag or setting.
        source_name: String,
        /// The entry as given.
        entry: String,
        /// What is wrong.
        reason: String,
    },
}

/// Which host names an override covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// One name, compared without regard to case.
    Exact(String),
    /// `*.DOMAIN`: every name under the domain (not the domain itself); this project's
    /// addition to curl's syntax, for virtual-hosted buckets.
    Subdomains(String),
    /// `*`: every name, tried last (as curl does).
    Any,
}

/// One `HOST:PORT:ADDR[,ADDR...]` override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveEntry {
    /// The names it covers.
    pub host: HostPattern,
    /// The port it covers (the URL's, or the scheme's default).
    pub port: u16,
    /// The addresses to dial instead, in order.
    pub addresses: Vec<IpAddr>,
}

impl ResolveEntry {
    /// Parses `HOST:PORT:ADDR[,ADDR...]` as curl's `--resolve` takes it (IPv6 addresses with
    /// or without brackets; a leading `+`, curl's "time out the entry", is refused as it has no
    /// meaning here), from `source_name`.
    pub fn parse(entry: &str, source_name: &str) -> Result<Self, ResolveError> {
        let invalid = |reason: &str| ResolveError::Invalid {
            source_name: source_name.to_owned(),
            entry: entry.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parts = entry.trim().splitn(3, ':');
        let (Some(host), Some(port), Some(addresses)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid("it needs three parts separated by ':'"));
        };
        if host.starts_with('+') {
            return Err(invalid("a leading '+' (curl's expiring entry) is not supported"));
        }
        let lowered = host.to_ascii_lowercase();
        // A name's trailing dot is dropped, not the one of `*.`.
        let host = lowered.strip_suffix('.').filter(|h| !h.ends_with('*')).unwrap_or(&lowered).to_owned();
        let valid_name = |name: &str| {
            !name.is_empty()
                && name.split('.').all(|label| {
                    !label.is_empty()
                        && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                })
        };
        let host = match host.as_str() {
            "*" => HostPattern::Any,
            _ => match host.strip_prefix("*.") {
                Some(domain) if valid_name(domain) => HostPattern::Subdomains(domain.to_owned()),
                None if valid_name(&host) => HostPattern::Exact(host.clone()),
                _ => return Err(invalid("the host is not a name, *.DOMAIN or *")),
            },
        };
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| invalid("the port is not 1 to 65535"))?;
        let addresses = addresses
            .split(',')
            .map(|address| {
                let address = address.trim();
                let bare = address.strip_prefix('[').and_then(|a| a.strip_suffix(']')).unwrap_or(address);
                bare.parse::<IpAddr>().map_err(|_| invalid(&format!("{address:?} is not an IP address")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { host, port, addresses })
    }

    /// Whether it covers `host` (lower case, no trailing dot) on `port`.
    fn covers(&self, host: &str, port: u16) -> bool {
        self.port == port
            && match &self.host {
                HostPattern::Exact(name) => host == name,
                HostPattern::Subdomains(domain) => host
                    .strip_suffix(domain.as_str())
                    .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')),
                HostPattern::Any => true,
            }
    }
}

/// The overrides of a connection: none by default (the system's resolver for every name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolveOverrides {
    entries: Vec<ResolveEntry>,
}

impl ResolveOverrides {
    /// Overrides from `entries`, each parsed with [`ResolveEntry::parse`] from `source_name`.
    pub fn parse<S: AsRef<str>>(entries: &[S], source_name: &str) -> Result<Self, ResolveError> {
        let entries =
            entries.iter().map(|e| ResolveEntry::parse(e.as_ref(), source_name)).collect::<Result<_, _>>()?;
        Ok(Self { entries })
    }

    /// Overrides made of `entries`.
    pub fn new(entries: Vec<ResolveEntry>) -> Self {
        Self { entries }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The addresses to dial for `host` (IPv6 without brackets) on `port`, if an override
    /// covers it: an exact name first, then the longest `*.DOMAIN`, then `*`; within each kind
    /// the first given wins.
    pub fn lookup(&self, host: &str, port: u16) -> Option<Vec<SocketAddr>> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let rank = |entry: &ResolveEntry| match &entry.host {
            HostPattern::Exact(_) => (0, 0),
            HostPattern::Subdomains(domain) => (1, usize::MAX - domain.len()),
            HostPattern::Any => (2, 0),
        };
        let entry = self.entries.iter().filter(|e| e.covers(&host, port)).min_by_key(|e| rank(e))?;
        Some(entry.addresses.iter().map(|ip| SocketAddr::new(*ip, port)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_as_curl_reads_them_and_mistakes_name_the_flag() {
        let table: &[(&str, Result<(HostPattern, u16, &[&str]), &str>)] = &[
            (
                "s3.example.test:443:127.0.0.1",
                Ok((HostPattern::Exact("s3.example.test".into()), 443, &["127.0.0.1"])),
            ),
            (
                "S3.Example.Test.:443:127.0.0.1",
                Ok((HostPattern::Exact("s3.example.test".into()), 443, &["127.0.0.1"])),
            ),
            (
                "*.s3.example.test:9000:[::1]",
                Ok((HostPattern::Subdomains("s3.example.test".into()), 9000, &["::1"])),
            ),
            ("*:443:::1,127.0.0.1", Ok((HostPattern::Any, 443, &["::1", "127.0.0.1"]))),
            (
                "h:443:10.0.0.1, 10.0.0.2",
                Ok((HostPattern::Exact("h".into()), 443, &["10.0.0.1", "10.0.0.2"])),
            ),
            ("s3.example.test:443", Err("three parts")),
            ("s3.example.test:0:127.0.0.1", Err("the port")),
            ("s3.example.test:https:127.0.0.1", Err("the port")),
            ("s3.example.test:443:localhost", Err("\"localhost\" is not an IP address")),
            ("+s3.example.test:443:127.0.0.1", Err("leading '+'")),
            ("*.:443:127.0.0.1", Err("the host")),
            ("a..b:443:127.0.0.1", Err("the host")),
            (":443:127.0.0.1", Err("the host")),
        ];
        for (entry, want) in table {
            match (ResolveEntry::parse(entry, "--resolve"), want) {
                (Ok(got), Ok((host, port, addresses))) => {
                    let addresses: Vec<IpAddr> = addresses.iter().map(|a| a.parse().unwrap()).collect();
                    assert_eq!(got, ResolveEntry { host: host.clone(), port: *port, addresses }, "{entry}");
                }
                (Err(error), Err(part)) => {
                    let message = error.to_string();
                    assert!(
                        message.starts_with("--resolve ") && message.contains(part),
                        "{entry}: {message}"
                    );
                }
                (got, _) => panic!("{entry}: {got:?}"),
            }
        }
    }

    #[test]
    fn exact_names_beat_the_longest_domain_which_beats_any() {
        let overrides = ResolveOverrides::parse(
            &[
                "*:443:10.0.0.9",
                "*.example.test:443:10.0.0.2",
                "*.s3.example.test:443:10.0.0.3",
                "s3.example.test:443:10.0.0.1",
                "s3.example.test:443:10.0.0.7",
            ],
            "--resolve",
        )
        .unwrap();
        let table: &[(&str, u16, Option<&str>)] = &[
            ("s3.example.test", 443, Some("10.0.0.1:443")),
            ("S3.EXAMPLE.TEST.", 443, Some("10.0.0.1:443")),
            ("bucket.s3.example.test", 443, Some("10.0.0.3:443")),
            ("other.example.test", 443, Some("10.0.0.2:443")),
            // The domain itself is not its own subdomain; a suffix must end at a dot.
            ("example.test", 443, Some("10.0.0.9:443")),
            ("notexample.test", 443, Some("10.0.0.9:443")),
            ("anything.else", 443, Some("10.0.0.9:443")),
            ("s3.example.test", 8443, None),
        ];
        for (host, port, want) in table {
            let got = overrides.lookup(host, *port).map(|a| a[0].to_string());
            assert_eq!(got.as_deref(), *want, "{host}:{port}");
        }
        assert_eq!(ResolveOverrides::default().lookup("s3.example.test", 443), None);
        let v6 = ResolveOverrides::parse(&["h:9000:[::1],127.0.0.1"], "x").unwrap();
        assert_eq!(
            v6.lookup("h", 9000).unwrap(),
            vec!["[::1]:9000".parse::<SocketAddr>().unwrap(), "127.0.0.1:9000".parse().unwrap()]
        );
    }
}
