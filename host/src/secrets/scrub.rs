//! Removes secrets from text the host passes on: whatever a guest says back, an S3 error body
//! `serve` returns, a message quoting either.
//!
//! Matching the secret as it was handed out is not enough. AWS quotes the canonical request in
//! `SignatureDoesNotMatch` (a session token percent-encoded as a query value, and again as the
//! hex bytes of `CanonicalRequestBytes`), and a guest may encode a secret on purpose to slip it
//! past an exact match. So every spelling a server or a guest is likely to produce is scrubbed.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::credentials::Secret;

/// What a scrubbed secret reads as.
pub const REDACTED: &str = "<redacted>";

/// Characters SigV4 leaves unencoded (RFC 3986's unreserved set); everything else is `%XX`.
const SIGV4_QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
/// The path form, which keeps `/`.
const SIGV4_PATH: &AsciiSet = &SIGV4_QUERY.remove(b'/');

/// `text` with every spelling of every non-empty secret in `secrets` replaced by [`REDACTED`].
pub fn secrets<'a>(text: &str, secrets: impl IntoIterator<Item = &'a Secret>) -> String {
    let mut spellings: Vec<String> =
        secrets.into_iter().filter(|s| !s.expose().is_empty()).flat_map(|s| spellings(s.expose())).collect();
    // Longer spellings first, so that one containing another is replaced whole.
    spellings.sort_by_key(|s| std::cmp::Reverse(s.len()));
    spellings.dedup();
    spellings.iter().fold(text.to_owned(), |text, spelling| text.replace(spelling.as_str(), REDACTED))
}

/// `text` scrubbed as by [`secrets`], except inside the occurrences of `kept`: URLs the host
/// made itself (presigned URLs carry a session token by design).
pub fn secrets_outside<'a>(
    text: &str,
    secrets_in: impl IntoIterator<Item = &'a Secret> + Clone,
    kept: &[String],
) -> String {
    let Some((at, url)) = kept
        .iter()
        .filter(|url| !url.is_empty())
        .filter_map(|url| text.find(url.as_str()).map(|at| (at, url)))
        .min()
    else {
        return secrets(text, secrets_in);
    };
    let mut out = secrets(&text[..at], secrets_in.clone());
    out.push_str(url);
    out.push_str(&secrets_outside(&text[at + url.len()..], secrets_in, kept));
    out
}

/// The spellings of one secret: as is; percent-encoded as a query value and as a path, with
/// upper- and lower-case hex digits; encoded twice (a URL quoted inside a query value); and the
/// space-separated hex bytes of the raw and encoded forms (`CanonicalRequestBytes`).
fn spellings(secret: &str) -> Vec<String> {
    let query = utf8_percent_encode(secret, SIGV4_QUERY).to_string();
    let path = utf8_percent_encode(secret, SIGV4_PATH).to_string();
    let twice = utf8_percent_encode(&query, SIGV4_QUERY).to_string();
    let mut forms = vec![secret.to_owned()];
    for encoded in [query, path, twice] {
        forms.push(lower_hex_escapes(&encoded));
        forms.push(encoded);
    }
    let bytes: Vec<String> =
        forms.iter().flat_map(|form| [hex_bytes(form, false), hex_bytes(form, true)]).collect();
    forms.extend(bytes);
    forms
}

/// `%2F` written as `%2f`: the same encoding with lower-case digits.
fn lower_hex_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3).unwrap_or(&rest[at..]);
        out.push_str(&escape.to_ascii_lowercase());
        rest = &rest[at + escape.len()..];
    }
    out.push_str(rest);
    out
}

/// The bytes of `text` as two-digit hex numbers separated by spaces.
fn hex_bytes(text: &str, upper: bool) -> String {
    let hex: Vec<String> =
        text.bytes().map(|b| if upper { format!("{b:02X}") } else { format!("{b:02x}") }).collect();
    hex.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_secret_is_scrubbed() {
        let token = Secret::new("FQo/Gd+w==");
        let table: &[(&str, &str)] = &[
            ("raw FQo/Gd+w== end", "raw <redacted> end"),
            (
                "query X-Amz-Security-Token=FQo%2FGd%2Bw%3D%3D&x=1",
                "query X-Amz-Security-Token=<redacted>&x=1",
            ),
            ("lower fqo FQo%2fGd%2bw%3d%3d", "lower fqo <redacted>"),
            ("path /b/FQo/Gd%2Bw%3D%3D", "path /b/<redacted>"),
            ("twice FQo%252FGd%252Bw%253D%253D", "twice <redacted>"),
            ("bytes 3d 46 51 6f 2f 47 64 2b 77 3d 3d 0a", "bytes 3d <redacted> 0a"),
            ("BYTES 46 51 6F 25 32 46", "BYTES 46 51 6F 25 32 46"),
            ("not a secret: FQo/Gd", "not a secret: FQo/Gd"),
        ];
        for (text, scrubbed) in table {
            assert_eq!(secrets(text, [&token]), *scrubbed, "{text}");
        }
    }

    #[test]
    fn empty_secrets_scrub_nothing_and_several_are_all_scrubbed() {
        let empty = Secret::new("");
        assert_eq!(secrets("abc", [&empty]), "abc");
        let (a, b) = (Secret::new("s3cr3t"), Secret::new("t0ken"));
        assert_eq!(secrets("s3cr3t and t0ken", [&a, &b]), "<redacted> and <redacted>");
    }
}
