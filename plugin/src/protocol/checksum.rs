//! S3's additional checksums (CRC-32, CRC-32C, SHA-1, SHA-256, CRC-64/NVME): computed
//! incrementally as bytes pass, named on the wire, and read back from a response's headers.
//! Pure functions, tested against the algorithms' published check values.

use base64::Engine as _;
use sha2::Digest as _;

use crate::bindings::s3_connector::s3::types::{ChecksumAlgorithm, S3Error};
use crate::protocol::crc;

/// Every algorithm, in the order a response's headers are searched for one to verify.
pub const ALL: [ChecksumAlgorithm; 5] = [
    ChecksumAlgorithm::Crc64nvme,
    ChecksumAlgorithm::Crc32c,
    ChecksumAlgorithm::Crc32,
    ChecksumAlgorithm::Sha256,
    ChecksumAlgorithm::Sha1,
];

/// The header (and trailer) that carries the checksum, lower case.
pub fn header_name(algorithm: ChecksumAlgorithm) -> &'static str {
    match algorithm {
        ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
        ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
        ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
        ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        ChecksumAlgorithm::Crc64nvme => "x-amz-checksum-crc64nvme",
    }
}

// `ChecksumAlgorithm::s3_name`: the name in `x-amz-sdk-checksum-algorithm` and
// `x-amz-checksum-algorithm`, as the host spells it.
s3_connector_rules::checksum_names!();

/// The element of a part's checksum in CompleteMultipartUpload's body, for example `ChecksumCRC32`.
pub fn xml_element(algorithm: ChecksumAlgorithm) -> String {
    format!("Checksum{}", algorithm.s3_name())
}

/// The length of the checksum's base64 text: a trailer's size is known before the body is read.
pub fn encoded_len(algorithm: ChecksumAlgorithm) -> usize {
    let digest_bytes: usize = match algorithm {
        ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
        ChecksumAlgorithm::Crc64nvme => 8,
        ChecksumAlgorithm::Sha1 => 20,
        ChecksumAlgorithm::Sha256 => 32,
    };
    digest_bytes.div_ceil(3) * 4
}

/// A checksum being computed over bytes fed in pieces.
#[derive(Clone)]
pub enum Hasher {
    /// One of the CRCs.
    Crc(ChecksumAlgorithm, crc::Digest),
    /// SHA-1.
    Sha1(sha1::Sha1),
    /// SHA-256.
    Sha256(sha2::Sha256),
}

impl Hasher {
    /// A fresh checksum of nothing yet.
    pub fn new(algorithm: ChecksumAlgorithm) -> Self {
        let crc = |params| Hasher::Crc(algorithm, crc::Digest::new(params));
        match algorithm {
            ChecksumAlgorithm::Crc32 => crc(&crc::CRC32),
            ChecksumAlgorithm::Crc32c => crc(&crc::CRC32C),
            ChecksumAlgorithm::Crc64nvme => crc(&crc::CRC64NVME),
            ChecksumAlgorithm::Sha1 => Hasher::Sha1(sha1::Digest::new()),
            ChecksumAlgorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
        }
    }

    /// Adds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Crc(_, digest) => digest.update(bytes),
            Hasher::Sha1(digest) => sha1::Digest::update(digest, bytes),
            Hasher::Sha256(digest) => digest.update(bytes),
        }
    }

    /// Appends what `next` has seen to what this one has, as if its bytes had been fed here
    /// too: the CRCs combine without reading the bytes again, so a multipart upload's
    /// full-object checksum costs nothing beyond the parts' own. Returns false (and changes
    /// nothing) for SHA-1 and SHA-256, which cannot combine, and for two different algorithms.
    pub fn combine(&mut self, next: &Hasher) -> bool {
        match (self, next) {
            (Hasher::Crc(mine, digest), Hasher::Crc(theirs, other)) if mine == theirs => {
                digest.combine(other);
                true
            }
            _ => false,
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> ChecksumAlgorithm {
        match self {
            Hasher::Crc(algorithm, _) => *algorithm,
            Hasher::Sha1(_) => ChecksumAlgorithm::Sha1,
            Hasher::Sha256(_) => ChecksumAlgorithm::Sha256,
        }
    }

    /// Checks a download of `bytes` bytes against the `expected` checksum S3 sent: a mismatch is
    /// a corrupt download, to be discarded.
    pub fn check_download(self, expected: &str, bytes: u64) -> Result<(), S3Error> {
        let name = header_name(self.algorithm());
        let actual = self.finish();
        if actual == expected {
            return Ok(());
        }
        Err(S3Error::Other(format!(
            "the downloaded bytes do not match the object's checksum: {name} is {actual}, S3 sent {expected} \
             ({bytes} bytes); the download is corrupt and was discarded"
        )))
    }

    /// The checksum as S3 writes it: the big-endian digest in base64.
    pub fn finish(self) -> String {
        let digest: Vec<u8> = match self {
            Hasher::Crc(ChecksumAlgorithm::Crc64nvme, digest) => digest.finalize().to_be_bytes().to_vec(),
            // The 32-bit CRCs are the low half of the u64.
            Hasher::Crc(_, digest) => (digest.finalize() as u32).to_be_bytes().to_vec(),
            Hasher::Sha1(digest) => sha1::Digest::finalize(digest).to_vec(),
            Hasher::Sha256(digest) => digest.finalize().to_vec(),
        };
        base64::engine::general_purpose::STANDARD.encode(digest)
    }
}

/// The checksum of `bytes` in one go.
pub fn compute(algorithm: ChecksumAlgorithm, bytes: &[u8]) -> String {
    let mut hasher = Hasher::new(algorithm);
    hasher.update(bytes);
    hasher.finish()
}

/// Whether S3 can keep a full-object checksum of a multipart upload with this algorithm
/// (`x-amz-checksum-type: FULL_OBJECT`): the CRCs, which combine across parts. SHA-1 and
/// SHA-256 multipart uploads only get a composite checksum (a checksum of the parts' checksums).
pub fn full_object_multipart(algorithm: ChecksumAlgorithm) -> bool {
    matches!(algorithm, ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c | ChecksumAlgorithm::Crc64nvme)
}

/// The full-object checksum a GET response carries, if any: the first of [`ALL`] whose header
/// is present. A composite checksum of a multipart upload (`BASE64-N`, a checksum of the parts'
/// checksums, which S3 also marks `x-amz-checksum-type: COMPOSITE`) says nothing checkable
/// about the bytes alone and is skipped.
pub fn full_object<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Option<(ChecksumAlgorithm, &'a str)> {
    if header("x-amz-checksum-type").is_some_and(|kind| kind.trim().eq_ignore_ascii_case("COMPOSITE")) {
        return None;
    }
    ALL.into_iter().find_map(|algorithm| {
        let value = header(header_name(algorithm))?.trim();
        (!value.contains('-') && !value.is_empty()).then_some((algorithm, value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use ChecksumAlgorithm::{Crc32, Crc32c, Crc64nvme, Sha1, Sha256};

    /// Check values: the CRC catalogue's ("123456789"), and digests of "" and "Hello, World!"
    /// from Python's zlib and hashlib.
    const VECTORS: &[(ChecksumAlgorithm, &[u8], &str)] = &[
        (Crc32, b"", "AAAAAA=="),
        (Crc32, b"123456789", "y/Q5Jg=="),
        (Crc32, b"Hello, World!", "7ErD0A=="),
        (Crc32c, b"", "AAAAAA=="),
        (Crc32c, b"123456789", "4waSgw=="),
        (Crc32c, b"Hello, World!", "TVUQaA=="),
        (Crc64nvme, b"", "AAAAAAAAAAA="),
        (Crc64nvme, b"123456789", "rosUhgp5mIg="),
        (Crc64nvme, b"Hello, World!", "1Km+Qyat0k0="),
        (Sha1, b"", "2jmj7l5rSw0yVb/vlWAYkK/YBwk="),
        (Sha1, b"123456789", "98O8HYCOBHMq32eZZczDTKeuNEE="),
        (Sha256, b"", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
        (Sha256, b"123456789", "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU="),
        (Sha256, b"Hello, World!", "3/1gIbsr1bCvZ2KQgJ7DpTGR3YHH9wpLKGiKNiGCmG8="),
    ];

    #[test]
    fn known_vectors() {
        for &(algorithm, input, expected) in VECTORS {
            assert_eq!(compute(algorithm, input), expected, "{algorithm:?} of {input:?}");
            assert_eq!(expected.len(), encoded_len(algorithm), "{algorithm:?}");
        }
    }

    #[test]
    fn pieces_give_the_checksum_of_the_whole() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for algorithm in ALL {
            let mut hasher = Hasher::new(algorithm);
            for piece in data.chunks(999) {
                hasher.update(piece);
            }
            assert_eq!(hasher.finish(), compute(algorithm, &data), "{algorithm:?}");
        }
    }

    #[test]
    fn crcs_of_pieces_combine_into_the_crc_of_the_whole() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 13 % 251) as u8).collect();
        for algorithm in [Crc32, Crc32c, Crc64nvme] {
            let mut whole = Hasher::new(algorithm);
            for piece in data.chunks(65_537) {
                let mut part = Hasher::new(algorithm);
                part.update(piece);
                assert!(whole.combine(&part));
            }
            assert_eq!(whole.finish(), compute(algorithm, &data), "{algorithm:?}");
        }
        let mut sha = Hasher::new(Sha256);
        assert!(!sha.combine(&Hasher::new(Sha256)));
        assert!(!Hasher::new(Crc32).combine(&Hasher::new(Crc32c)));
    }

    #[test]
    fn only_the_crcs_make_full_object_multipart_checksums() {
        let full: Vec<_> = ALL.into_iter().filter(|a| full_object_multipart(*a)).collect();
        assert_eq!(full, [Crc64nvme, Crc32c, Crc32]);
    }

    #[test]
    fn names_on_the_wire() {
        let table = [
            (Crc32, "x-amz-checksum-crc32", "CRC32", "ChecksumCRC32"),
            (Crc32c, "x-amz-checksum-crc32c", "CRC32C", "ChecksumCRC32C"),
            (Sha1, "x-amz-checksum-sha1", "SHA1", "ChecksumSHA1"),
            (Sha256, "x-amz-checksum-sha256", "SHA256", "ChecksumSHA256"),
            (Crc64nvme, "x-amz-checksum-crc64nvme", "CRC64NVME", "ChecksumCRC64NVME"),
        ];
        for (algorithm, header, name, element) in table {
            assert_eq!((header_name(algorithm), algorithm.s3_name()), (header, name));
            assert_eq!(xml_element(algorithm), element);
        }
    }

    #[test]
    fn full_object_checksums_are_found_and_composite_ones_skipped() {
        let table: &[(&[(&str, &str)], Option<(ChecksumAlgorithm, &str)>)] = &[
            (&[], None),
            (&[("x-amz-checksum-crc32", "y/Q5Jg==")], Some((Crc32, "y/Q5Jg=="))),
            (&[("x-amz-checksum-crc32", "y/Q5Jg==-3")], None),
            (
                &[("x-amz-checksum-sha256", "abc=-2"), ("x-amz-checksum-crc64nvme", "rosUhgp5mIg=")],
                Some((Crc64nvme, "rosUhgp5mIg=")),
            ),
            (&[("x-amz-checksum-crc32", "")], None),
            (&[("x-amz-checksum-crc32", "y/Q5Jg=="), ("x-amz-checksum-type", "COMPOSITE")], None),
            (
                &[("x-amz-checksum-crc64nvme", "rosUhgp5mIg="), ("x-amz-checksum-type", "FULL_OBJECT")],
                Some((Crc64nvme, "rosUhgp5mIg=")),
            ),
        ];
        for (headers, expected) in table {
            let found = full_object(|name| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v));
            assert_eq!(found, *expected, "{headers:?}");
        }
    }
}
