//! Redaction of what a printed URL may carry besides where it points: the query values that
//! carry a presigned URL's authority (whoever holds `X-Amz-Signature`, with its credential scope
//! and session token, can replay the request), and the password of a URL's userinfo
//! (`http://user:PASS@host`, as operators write collector, proxy, STS and container endpoints).
//! Neither reaches an error message, a log line, `--verbose` or the audit log: every URL the
//! host prints goes through [`url`] (or [`uri`] for a parsed one).

/// The query parameters whose values are redacted, compared without regard to case.
pub const SENSITIVE_PARAMS: &[&str] = &["X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token"];

/// What a redacted value reads as.
pub const REDACTED: &str = "<redacted>";

/// `text` with the value of every `NAME=` of [`SENSITIVE_PARAMS`] replaced by [`REDACTED`],
/// wherever it appears (a whole URL, a bare query, a sentence quoting either). A value ends at
/// `&`, `#`, whitespace, or a quote.
pub fn query_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((start, name_len)) = first_sensitive(rest) {
        let value_start = start + name_len + 1;
        out.push_str(&rest[..value_start]);
        out.push_str(REDACTED);
        let value = &rest[value_start..];
        let end = value.find(|c: char| matches!(c, '&' | '#' | '"' | '\'') || c.is_whitespace());
        rest = &value[end.unwrap_or(value.len())..];
    }
    out.push_str(rest);
    out
}

/// The byte offset and name length of the first `NAME=` in `text`.
fn first_sensitive(text: &str) -> Option<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    SENSITIVE_PARAMS
        .iter()
        .filter_map(|name| {
            let needle = format!("{}=", name.to_ascii_lowercase());
            lower.find(&needle).map(|at| (at, name.len()))
        })
        .min()
}

/// `url` as it may be printed: the scheme, host, port and path as they are; the password of
/// the userinfo replaced by [`REDACTED`] (`user:<redacted>@host`), a userinfo without a
/// password replaced whole (`<redacted>@host`: tools put a bare token there, as in
/// `https://TOKEN@host`); the query and fragment left out (`?<redacted>`), since a credential
/// endpoint's or a presigned URL's query may be the secret itself.
///
/// The text need not be a valid URL: most URLs are printed in the error that says they did not
/// parse. A password with a raw `/`, `?` or `#` (`http://u:pa/ss@host`) ends the authority early
/// for a URL parser; here an authority that does not read as `host[:port]` and is followed by
/// an `@` is taken to run to the last `@`, so such a password is redacted too (over-redacting a
/// malformed URL costs nothing; quoting its password would).
pub fn url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let userinfo_end = match rest[..authority_end].rfind('@') {
        Some(at) => Some(at),
        None if !plain_host_port(&rest[..authority_end]) => rest.rfind('@'),
        None => None,
    };
    let mut out = String::with_capacity(url.len());
    if let Some(scheme) = scheme {
        out.push_str(scheme);
        out.push_str("://");
    }
    let after_userinfo = match userinfo_end {
        Some(at) => {
            if let Some((user, _password)) = rest[..at].split_once(':') {
                out.push_str(user);
                out.push(':');
            }
            out.push_str(REDACTED);
            out.push('@');
            &rest[at + 1..]
        }
        None => rest,
    };
    match after_userinfo.find(['?', '#']) {
        Some(cut) => {
            out.push_str(&after_userinfo[..cut]);
            out.push('?');
            out.push_str(REDACTED);
        }
        None => out.push_str(after_userinfo),
    }
    out
}

/// [`url`] of a parsed URI.
pub fn uri(uri: &http::Uri) -> String {
    url(&uri.to_string())
}

/// Whether `authority` is `host` or `host:port` (digits, `[v6]` and `[v6]:port` included):
/// no userinfo. A URL parser may read `http://u:pa/ss@host` as the host `u` with a port `pa` and
/// a path `/ss@host`; a URL whose authority is not plain is refused wherever the host takes one,
/// so that such a password is neither sent nor printed.
pub fn plain_authority(authority: &str) -> bool {
    !authority.contains('@') && plain_host_port(authority)
}

/// Whether `authority` reads as `host` or `host:port` (digits), as an authority without
/// userinfo does; `[v6]` and `[v6]:port` included.
fn plain_host_port(authority: &str) -> bool {
    let port = match authority.rsplit_once(']') {
        Some((_, after)) => after.strip_prefix(':'),
        None => authority.split_once(':').map(|(_, port)| port),
    };
    port.is_none_or(|port| port.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_queries_of_urls_are_redacted() {
        let table: &[(&str, &str)] = &[
            ("", ""),
            ("http://127.0.0.1:4318", "http://127.0.0.1:4318"),
            ("https://otel.example/v1/traces", "https://otel.example/v1/traces"),
            (
                "http://otlpuser:PASS@collector:4318/v1/traces",
                "http://otlpuser:<redacted>@collector:4318/v1/traces",
            ),
            ("http://u:p@h:1/x", "http://u:<redacted>@h:1/x"),
            ("https://TOKEN@sts.example", "https://<redacted>@sts.example"),
            ("http://u:@h", "http://u:<redacted>@h"),
            ("http://u:p%40ss@h", "http://u:<redacted>@h"),
            ("http://u:p@ss@h/k", "http://u:<redacted>@h/k"),
            // A raw `/`, `?` or `#` in the password: the authority `u:pa` is no host:port.
            ("http://u:pa/ss@h/creds", "http://u:<redacted>@h/creds"),
            ("http://u:pa?ss@h", "http://u:<redacted>@h"),
            ("http://u:pa#ss@h", "http://u:<redacted>@h"),
            // An `@` in a path after a plain authority is a key's, not a userinfo's.
            ("http://127.0.0.1:9000/b/user@example.com", "http://127.0.0.1:9000/b/user@example.com"),
            ("http://[::1]:9/a@b", "http://[::1]:9/a@b"),
            ("http://127.0.0.1:9/creds?token=abc", "http://127.0.0.1:9/creds?<redacted>"),
            ("http://h/b/k?X-Amz-Signature=s#f", "http://h/b/k?<redacted>"),
            ("socks5://u:p@p:1", "socks5://u:<redacted>@p:1"),
            // Without a scheme, as a proxy may be given.
            ("alice:secret@proxy:3128", "alice:<redacted>@proxy:3128"),
            ("proxy:3128", "proxy:3128"),
            ("not a url", "not a url"),
        ];
        for (text, redacted) in table {
            assert_eq!(url(text), *redacted, "{text}");
        }
        let parsed: http::Uri = "http://u:SENTINEL@127.0.0.1:9/c?t=SENTINEL".parse().unwrap();
        assert_eq!(uri(&parsed), "http://u:<redacted>@127.0.0.1:9/c?<redacted>");
    }

    #[test]
    fn signature_credential_and_token_values_are_redacted() {
        let table: &[(&str, &str)] = &[
            ("", ""),
            ("list-type=2&prefix=a", "list-type=2&prefix=a"),
            (
                "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F2013&X-Amz-Signature=abc123",
                "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=<redacted>&X-Amz-Signature=<redacted>",
            ),
            (
                "GET http://h/b/k with query \"x-amz-security-token=TOK&acl\" is not",
                "GET http://h/b/k with query \"x-amz-security-token=<redacted>&acl\" is not",
            ),
            ("a X-Amz-Signature=sig b", "a X-Amz-Signature=<redacted> b"),
            ("X-Amz-Signature=", "X-Amz-Signature=<redacted>"),
        ];
        for (text, redacted) in table {
            assert_eq!(query_values(text), *redacted, "{text}");
        }
    }
}
