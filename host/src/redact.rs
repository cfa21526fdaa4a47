//! Redaction of the query values that carry a presigned URL's authority: whoever holds
//! `X-Amz-Signature` (with its credential scope and session token) can replay the request, so
//! these never reach an error message or the audit log.

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

#[cfg(test)]
mod tests {
    use super::*;

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
