//! The SigV4 signing key: what the host derives from the secret access key, and the only key
//! the sandbox ever holds.
//!
//! SigV4 signs with `HMAC(kSigning, string-to-sign)`, where `kSigning` is the chain
//! `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`. The chain
//! is one way: a derived key signs for one day, one region and one service, and gives nothing
//! of the secret. So the host derives it and hands the plugin the key, never the secret (and
//! the plugin saves the four HMACs a call).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::SigningError;
use crate::civil_date::civil_from_days;

/// SHA-256's block size, which HMAC pads its key to.
const BLOCK: usize = 64;
/// The service every key of this project signs for.
pub const SERVICE: &str = "s3";
/// How far around midnight a key for the neighbouring day is still given out: S3 accepts a
/// request whose clock is up to 15 minutes off, so a plugin whose clock (corrected by the
/// server's) is just past or short of midnight signs with the other day's date.
pub const MIDNIGHT_SLACK: Duration = Duration::from_secs(15 * 60);

/// A derived SigV4 signing key (`kSigning`): 32 bytes that sign for one day, region and service.
/// Its `Debug` output never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey([u8; 32]);

impl SigningKey {
    /// Derives the key of `secret` for `date` (`YYYYMMDD`), `region` and `service`.
    pub fn derive(secret: &str, date: &str, region: &str, service: &str) -> Self {
        let mut first = Vec::with_capacity(4 + secret.len());
        first.extend_from_slice(b"AWS4");
        first.extend_from_slice(secret.as_bytes());
        let date_key = hmac_sha256(&first, date.as_bytes());
        let region_key = hmac_sha256(&date_key, region.as_bytes());
        let service_key = hmac_sha256(&region_key, service.as_bytes());
        Self(hmac_sha256(&service_key, b"aws4_request"))
    }

    /// The key from its 32 bytes, as the host hands them over.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SigningError> {
        <[u8; 32]>::try_from(bytes).map(Self).map_err(|_| SigningError::KeyLength(bytes.len()))
    }

    /// The key from its 64 lower- or upper-case hex digits, as an operator writes it.
    pub fn from_hex(text: &str) -> Result<Self, SigningError> {
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SigningError::KeyHex);
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
            let digit = |b: u8| char::from(b).to_digit(16).map_or(0, |d| d as u8);
            *byte = digit(pair[0]) << 4 | digit(pair[1]);
        }
        Ok(Self(bytes))
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        super::hex(&self.0)
    }

    /// The signature of `string_to_sign`: one HMAC.
    pub fn sign(&self, string_to_sign: &[u8]) -> String {
        super::hex(&hmac_sha256(&self.0, string_to_sign))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// What a request is signed with: the access key id, the derived key and what it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningIdentity {
    /// The access key id (`AKIA...`, `ASIA...`), which S3 reads from the credential scope.
    pub access_key_id: String,
    /// The derived key.
    pub key: SigningKey,
    /// The day the key signs for, `YYYYMMDD` (UTC).
    pub date: String,
    /// The region the key signs for.
    pub region: String,
    /// The session token of temporary credentials. Not a key: S3 needs it beside the signature.
    pub session_token: Option<String>,
}

impl SigningIdentity {
    /// The identity of long-term or temporary credentials for `date` and `region`, the key
    /// derived here (tests, and a host that signs itself).
    pub fn derive(
        access_key_id: &str,
        secret: &str,
        session_token: Option<&str>,
        date: &str,
        region: &str,
    ) -> Self {
        Self {
            access_key_id: access_key_id.to_owned(),
            key: SigningKey::derive(secret, date, region, SERVICE),
            date: date.to_owned(),
            region: region.to_owned(),
            session_token: session_token.map(str::to_owned),
        }
    }
}

/// The UTC date of `time` as SigV4 writes it in the credential scope: `20261207`.
pub fn signing_date(time: SystemTime) -> Result<String, SigningError> {
    let seconds = time.duration_since(UNIX_EPOCH).map_err(|_| SigningError::ClockBefore1970)?.as_secs();
    // Days since 1970 fit an i64 for any clock a u64 of seconds holds.
    let days = i64::try_from(seconds / 86_400).map_err(|_| SigningError::ClockBefore1970)?;
    let (year, month, day) = civil_from_days(days);
    Ok(format!("{year:04}{month:02}{day:02}"))
}

/// Whether a host whose clock reads `now` gives out a key for `date`: today's, or the
/// neighbouring day's within [`MIDNIGHT_SLACK`] of midnight.
pub fn date_is_current(date: &str, now: SystemTime) -> bool {
    let around = [now.checked_sub(MIDNIGHT_SLACK), Some(now), now.checked_add(MIDNIGHT_SLACK)];
    around.into_iter().flatten().filter_map(|time| signing_date(time).ok()).any(|day| day == date)
}

/// HMAC-SHA256 (RFC 2104) over the `sha2` the plugin already carries (0.10: in wasm32 about four
/// times faster than the 0.11 an `hmac` crate would bring along).
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test cases 1, 2 and 6 (a key longer than the block).
        let table: [(&[u8], &[u8], &str); 3] = [
            (&[0x0b; 20], b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, message, expected) in table {
            assert_eq!(super::super::hex(&hmac_sha256(key, message)), expected);
        }
    }

    #[test]
    fn the_derived_key_is_awss_example() {
        // AWS's worked example of deriving a signing key (the SigV4 documentation).
        let key =
            SigningKey::derive("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam");
        assert_eq!(key.to_hex(), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
        assert_eq!(SigningKey::from_hex(&key.to_hex().to_uppercase()), Ok(key.clone()));
        assert_eq!(format!("{key:?}"), "SigningKey(<redacted>)");
        assert!(matches!(SigningKey::from_hex("abc"), Err(SigningError::KeyHex)));
        assert!(matches!(SigningKey::from_bytes(&[1; 31]), Err(SigningError::KeyLength(31))));
    }

    #[test]
    fn only_todays_key_is_current_with_slack_at_midnight() {
        let at = |seconds: u64| UNIX_EPOCH + Duration::from_secs(seconds);
        // 2026-12-07T12:00:00Z, then 23:50 and 00:10.
        let noon = at(1_796_644_800);
        let table = [
            (noon, "20261207", true),
            (noon, "20261206", false),
            (noon, "20261208", false),
            (at(1_796_687_400), "20261208", true),
            (at(1_796_687_400), "20261207", true),
            (at(1_796_688_600), "20261207", true),
            (at(1_796_688_600), "20261209", false),
        ];
        for (now, date, current) in table {
            assert_eq!(date_is_current(date, now), current, "{date} at {now:?}");
        }
        assert_eq!(signing_date(noon).as_deref(), Ok("20261207"));
    }
}
