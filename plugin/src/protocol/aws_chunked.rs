//! The `aws-chunked` content encoding with an unsigned trailer
//! (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`): the body is sent in chunks, each `HEX-SIZE\r\n DATA
//! \r\n`, then `0\r\n`, the trailer `x-amz-checksum-ALG:VALUE\r\n` and `\r\n`. The checksum is
//! computed while the chunks go out and sent last, so a stream is read once.
//!
//! Every chunk but the last is [`CHUNK_SIZE`] bytes, so the encoded length (the
//! `Content-Length`) is known before the first byte is read. Pure functions, table-tested.

use crate::bindings::s3_connector::s3::types::ChecksumAlgorithm;
use crate::protocol::checksum;

/// Bytes per chunk (the AWS SDKs' 64 KiB).
pub const CHUNK_SIZE: u64 = 64 * 1024;

/// The header in front of a chunk of `len` bytes.
pub fn chunk_header(len: u64) -> String {
    format!("{len:x}\r\n")
}

/// What follows the last data chunk: the empty chunk, the checksum trailer, the blank line.
pub fn trailer(algorithm: ChecksumAlgorithm, value: &str) -> String {
    format!("0\r\n{}:{value}\r\n\r\n", checksum::header_name(algorithm))
}

/// The encoded length of `decoded` bytes in chunks of `chunk_size`, with the trailer.
pub fn encoded_length(decoded: u64, chunk_size: u64, algorithm: ChecksumAlgorithm) -> u64 {
    let full = decoded / chunk_size;
    let rest = decoded % chunk_size;
    let framed = |len: u64| chunk_header(len).len() as u64 + len + 2;
    let last = if rest == 0 { 0 } else { framed(rest) };
    let trailer_len = trailer(algorithm, "").len() as u64 + checksum::encoded_len(algorithm) as u64;
    full * framed(chunk_size) + last + trailer_len
}

/// `Content-Encoding` for the chunked body, keeping a caller's own encoding (S3 removes
/// `aws-chunked` and stores the rest).
pub fn content_encoding(own: Option<&str>) -> String {
    match own {
        Some(own) if !own.is_empty() => format!("aws-chunked,{own}"),
        _ => "aws-chunked".to_owned(),
    }
}

/// Encodes `data` whole: for tests, the same framing the streaming writer produces piece by
/// piece.
#[cfg(test)]
pub fn encode(data: &[u8], chunk_size: usize, algorithm: ChecksumAlgorithm) -> Vec<u8> {
    let mut out = Vec::new();
    let mut hasher = checksum::Hasher::new(algorithm);
    for chunk in data.chunks(chunk_size.max(1)) {
        out.extend_from_slice(chunk_header(chunk.len() as u64).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
        hasher.update(chunk);
    }
    out.extend_from_slice(trailer(algorithm, &hasher.finish()).as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChecksumAlgorithm::{Crc32, Crc64nvme, Sha256};

    #[test]
    fn the_encoded_length_is_what_encoding_produces() {
        let data = vec![7u8; 70_000];
        for (decoded, chunk, algorithm) in [
            (0, 16, Crc32),
            (1, 16, Crc32),
            (16, 16, Crc64nvme),
            (17, 16, Sha256),
            (65_536, 65_536, Crc32),
            (70_000, 65_536, Sha256),
            (70_000, 1000, Crc64nvme),
        ] {
            let encoded = encode(&data[..decoded], chunk, algorithm);
            assert_eq!(
                encoded_length(decoded as u64, chunk as u64, algorithm),
                encoded.len() as u64,
                "{decoded} bytes in chunks of {chunk} with {algorithm:?}"
            );
        }
    }

    #[test]
    fn framing_matches_aws_examples() {
        assert_eq!(
            String::from_utf8(encode(b"123456789", 4, Crc32)).unwrap(),
            "4\r\n1234\r\n4\r\n5678\r\n1\r\n9\r\n0\r\nx-amz-checksum-crc32:y/Q5Jg==\r\n\r\n"
        );
        assert_eq!(
            String::from_utf8(encode(b"", 4, Crc32)).unwrap(),
            "0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
        );
        assert_eq!(chunk_header(65_536), "10000\r\n");
    }

    #[test]
    fn content_encoding_keeps_the_callers() {
        assert_eq!(content_encoding(None), "aws-chunked");
        assert_eq!(content_encoding(Some("")), "aws-chunked");
        assert_eq!(content_encoding(Some("gzip")), "aws-chunked,gzip");
    }
}
