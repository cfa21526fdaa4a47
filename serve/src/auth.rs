//! Who may call `serve`: a bearer token, or nobody checked on loopback when asked explicitly.

use std::net::SocketAddr;

use s3_connector_host::credentials::Secret;

/// Why `serve` has no way to authenticate its clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientAuthError {
    /// A token that is empty or only white space.
    #[error("the client token (--token or S3_CONNECTOR_TOKEN) is empty or blank; give a real token")]
    BlankToken,
    /// `--insecure-no-auth` on an address others can reach.
    #[error(
        "--insecure-no-auth is only allowed on a loopback address, not {0}; give --token or S3_CONNECTOR_TOKEN"
    )]
    NoAuthOffLoopback(SocketAddr),
    /// Neither a token nor `--insecure-no-auth`.
    #[error(
        "serve needs a client token: --token TOKEN or S3_CONNECTOR_TOKEN (or --insecure-no-auth on a loopback address)"
    )]
    NoToken,
}

/// How `serve` authenticates its clients.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// `Authorization: Bearer TOKEN` with this token.
    Bearer(Secret),
    /// No check (only allowed on a loopback address).
    None,
}

impl ClientAuth {
    /// The auth for `listen`: a token, or none only with `insecure_no_auth` on loopback.
    /// A token that is empty or only white space is refused: it would admit anyone who sends
    /// `Authorization: Bearer ` with that much space.
    pub fn choose(
        token: Option<Secret>,
        insecure_no_auth: bool,
        listen: SocketAddr,
    ) -> Result<Self, ClientAuthError> {
        if token.as_ref().is_some_and(|t| t.expose().trim().is_empty()) {
            return Err(ClientAuthError::BlankToken);
        }
        match (token, insecure_no_auth) {
            (Some(token), _) => Ok(ClientAuth::Bearer(token)),
            (None, true) if listen.ip().is_loopback() => Ok(ClientAuth::None),
            (None, true) => Err(ClientAuthError::NoAuthOffLoopback(listen)),
            (None, false) => Err(ClientAuthError::NoToken),
        }
    }

    /// Whether a request with this `Authorization` header value may pass.
    pub fn admits(&self, authorization: Option<&[u8]>) -> bool {
        match self {
            ClientAuth::None => true,
            ClientAuth::Bearer(token) => {
                let given = authorization.and_then(|v| v.strip_prefix(b"Bearer ")).unwrap_or_default();
                constant_time_eq(given, token.expose().as_bytes())
            }
        }
    }
}

/// Compares without an early exit, so that the time taken does not tell how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut difference = a.len() ^ b.len();
    for (i, byte) in b.iter().enumerate() {
        difference |= usize::from(a.get(i).copied().unwrap_or(0) ^ byte);
    }
    difference == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_required_off_loopback_and_checked() {
        let loopback: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert!(ClientAuth::choose(None, false, loopback).unwrap_err().to_string().contains("--token"));
        assert!(ClientAuth::choose(None, true, public).unwrap_err().to_string().contains("loopback"));
        assert!(matches!(ClientAuth::choose(None, true, loopback), Ok(ClientAuth::None)));
        for blank in ["", " ", "\t \n"] {
            let refused =
                ClientAuth::choose(Some(Secret::new(blank)), true, loopback).unwrap_err().to_string();
            assert!(refused.contains("blank"), "{blank:?}: {refused}");
        }
        let auth = ClientAuth::choose(Some(Secret::new("t0ken")), false, public).unwrap();
        let table: &[(Option<&[u8]>, bool)] = &[
            (Some(b"Bearer t0ken"), true),
            (Some(b"Bearer t0ke"), false),
            (Some(b"Bearer t0ken2"), false),
            (Some(b"bearer t0ken"), false),
            (Some(b"t0ken"), false),
            (None, false),
        ];
        for (header, admitted) in table {
            assert_eq!(auth.admits(*header), *admitted, "{:?}", header.map(String::from_utf8_lossy));
        }
    }
}
