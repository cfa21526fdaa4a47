//! The headers that carry S3 checksums: on a body in memory, on an `aws-chunked` body with a
//! trailer, on CreateMultipartUpload, and the request for a checksum on GetObject. Pure
//! functions over header lists.

use http::header::{CONTENT_ENCODING, HeaderName, HeaderValue};

use crate::bindings::s3_connector::s3::types::ChecksumAlgorithm;
use crate::protocol::aws_chunked;
use crate::protocol::checksum::{self, compute};
use crate::protocol::object_headers::Headers;

/// `x-amz-checksum-mode: ENABLED`, which makes GetObject return the object's checksum.
pub fn checksum_mode() -> (HeaderName, HeaderValue) {
    (HeaderName::from_static("x-amz-checksum-mode"), HeaderValue::from_static("ENABLED"))
}

fn sdk_algorithm(algorithm: ChecksumAlgorithm) -> (HeaderName, HeaderValue) {
    (HeaderName::from_static("x-amz-sdk-checksum-algorithm"), HeaderValue::from_static(algorithm.s3_name()))
}

/// A body in memory: its checksum in `x-amz-checksum-ALG`, with the algorithm named.
pub fn for_bytes(algorithm: ChecksumAlgorithm, bytes: &[u8]) -> Headers {
    carrying(algorithm, &compute(algorithm, bytes))
}

/// A checksum already computed, in `x-amz-checksum-ALG`, with the algorithm named.
pub fn carrying(algorithm: ChecksumAlgorithm, value: &str) -> Headers {
    vec![
        sdk_algorithm(algorithm),
        (
            HeaderName::from_static(checksum::header_name(algorithm)),
            // Invariant: base64 text is always a valid header value.
            HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("")),
        ),
    ]
}

/// A streamed body of `decoded_length` bytes sent `aws-chunked` with the checksum in a trailer:
/// the content encoding (keeping the caller's, which `headers` may hold), the decoded length,
/// the trailer's name and the algorithm.
pub fn for_trailer(headers: &mut Headers, algorithm: ChecksumAlgorithm, decoded_length: u64) {
    let own =
        headers.iter().position(|(name, _)| *name == CONTENT_ENCODING).map(|index| headers.remove(index).1);
    let encoding = aws_chunked::content_encoding(own.as_ref().and_then(|v| v.to_str().ok()));
    // Invariant: "aws-chunked" and a value that already was a header value make a valid one.
    headers.push((
        CONTENT_ENCODING,
        HeaderValue::from_str(&encoding).unwrap_or(HeaderValue::from_static("aws-chunked")),
    ));
    headers
        .push((HeaderName::from_static("x-amz-decoded-content-length"), HeaderValue::from(decoded_length)));
    headers.push((
        HeaderName::from_static("x-amz-trailer"),
        HeaderValue::from_static(checksum::header_name(algorithm)),
    ));
    headers.push(sdk_algorithm(algorithm));
}

fn full_object_type() -> (HeaderName, HeaderValue) {
    (HeaderName::from_static("x-amz-checksum-type"), HeaderValue::from_static("FULL_OBJECT"))
}

/// CreateMultipartUpload: the algorithm every part's checksum is computed with and, for the
/// CRCs, `x-amz-checksum-type: FULL_OBJECT`, so that S3 keeps a checksum of the whole object
/// (which a download can verify) rather than a composite one of the parts' checksums.
pub fn for_multipart(algorithm: ChecksumAlgorithm) -> Headers {
    let mut headers = vec![(
        HeaderName::from_static("x-amz-checksum-algorithm"),
        HeaderValue::from_static(algorithm.s3_name()),
    )];
    if checksum::full_object_multipart(algorithm) {
        headers.push(full_object_type());
    }
    headers
}

/// CompleteMultipartUpload of a full-object upload: the whole object's checksum, which S3
/// checks against the parts it combines (a part altered on the way fails the completion),
/// and the checksum type again.
pub fn for_completion(algorithm: ChecksumAlgorithm, whole: &str) -> Headers {
    let mut headers = carrying(algorithm, whole);
    // The SDK's algorithm header is for bodies; CompleteMultipartUpload's body is XML.
    headers.retain(|(name, _)| name != "x-amz-sdk-checksum-algorithm");
    headers.push(full_object_type());
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(headers: &Headers) -> Vec<(String, String)> {
        headers.iter().map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned())).collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn bytes_carry_their_checksum() {
        let table = [
            (
                ChecksumAlgorithm::Crc32,
                &b"123456789"[..],
                [("x-amz-sdk-checksum-algorithm", "CRC32"), ("x-amz-checksum-crc32", "y/Q5Jg==")],
            ),
            (
                ChecksumAlgorithm::Crc64nvme,
                b"",
                [("x-amz-sdk-checksum-algorithm", "CRC64NVME"), ("x-amz-checksum-crc64nvme", "AAAAAAAAAAA=")],
            ),
        ];
        for (algorithm, bytes, expected) in table {
            assert_eq!(text(&for_bytes(algorithm, bytes)), pairs(&expected), "{algorithm:?}");
        }
    }

    #[test]
    fn a_trailer_announces_itself_and_keeps_the_callers_encoding() {
        let table: [(Headers, &[(&str, &str)]); 2] = [
            (vec![], &[("content-encoding", "aws-chunked")]),
            (
                vec![(CONTENT_ENCODING, HeaderValue::from_static("gzip"))],
                &[("content-encoding", "aws-chunked,gzip")],
            ),
        ];
        for (mut headers, encoding) in table {
            for_trailer(&mut headers, ChecksumAlgorithm::Sha256, 1234);
            let mut expected = pairs(encoding);
            expected.extend(pairs(&[
                ("x-amz-decoded-content-length", "1234"),
                ("x-amz-trailer", "x-amz-checksum-sha256"),
                ("x-amz-sdk-checksum-algorithm", "SHA256"),
            ]));
            assert_eq!(text(&headers), expected);
        }
    }

    #[test]
    fn multipart_and_download_headers() {
        assert_eq!(
            text(&for_multipart(ChecksumAlgorithm::Crc32c)),
            pairs(&[("x-amz-checksum-algorithm", "CRC32C"), ("x-amz-checksum-type", "FULL_OBJECT")])
        );
        assert_eq!(
            text(&for_multipart(ChecksumAlgorithm::Sha256)),
            pairs(&[("x-amz-checksum-algorithm", "SHA256")])
        );
        assert_eq!(
            text(&for_completion(ChecksumAlgorithm::Crc64nvme, "rosUhgp5mIg=")),
            pairs(&[("x-amz-checksum-crc64nvme", "rosUhgp5mIg="), ("x-amz-checksum-type", "FULL_OBJECT")])
        );
        assert_eq!(text(&vec![checksum_mode()]), pairs(&[("x-amz-checksum-mode", "ENABLED")]));
    }
}
