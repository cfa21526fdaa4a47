//! A local file's checksum as S3 writes a full-object checksum (the big-endian digest in
//! base64), for `sync --checksum`: comparing it with the one S3 stores tells whether the bytes
//! differ when size and time cannot (aws-cli issue 9074 asks for exactly this).

use std::io::Read;
use std::path::Path;

use base64::Engine as _;
use crc_fast::CrcAlgorithm;
use sha2::Digest as _;

use s3_connector_host::types::ChecksumAlgorithm;

/// Read size: large enough that a CRC runs at memory speed, small enough to stay in cache.
const CHUNK: usize = 1 << 20;

/// The checksum of the file at `path` with `algorithm`, read on a blocking thread.
pub async fn of_file(path: &Path, algorithm: ChecksumAlgorithm) -> std::io::Result<String> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(&path)?;
        let mut hasher = Hasher::new(algorithm);
        let mut buffer = vec![0u8; CHUNK];
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                return Ok(hasher.finish());
            }
            hasher.update(&buffer[..read]);
        }
    })
    .await
    .map_err(std::io::Error::other)?
}

/// One of S3's algorithms, fed in pieces.
enum Hasher {
    Crc(ChecksumAlgorithm, crc_fast::Digest),
    Sha1(ring::digest::Context),
    Sha256(sha2::Sha256),
}

impl Hasher {
    fn new(algorithm: ChecksumAlgorithm) -> Self {
        let crc = |kind| Hasher::Crc(algorithm, crc_fast::Digest::new(kind));
        match algorithm {
            ChecksumAlgorithm::Crc32 => crc(CrcAlgorithm::Crc32IsoHdlc),
            ChecksumAlgorithm::Crc32c => crc(CrcAlgorithm::Crc32Iscsi),
            ChecksumAlgorithm::Crc64nvme => crc(CrcAlgorithm::Crc64Nvme),
            ChecksumAlgorithm::Sha1 => {
                Hasher::Sha1(ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY))
            }
            ChecksumAlgorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Crc(_, digest) => digest.update(bytes),
            Hasher::Sha1(context) => context.update(bytes),
            Hasher::Sha256(digest) => digest.update(bytes),
        }
    }

    fn finish(self) -> String {
        let digest: Vec<u8> = match self {
            Hasher::Crc(ChecksumAlgorithm::Crc64nvme, digest) => digest.finalize().to_be_bytes().to_vec(),
            // The 32-bit CRCs are the low half of crc-fast's u64.
            Hasher::Crc(_, digest) => (digest.finalize() as u32).to_be_bytes().to_vec(),
            Hasher::Sha1(context) => context.finish().as_ref().to_vec(),
            Hasher::Sha256(digest) => digest.finalize().to_vec(),
        };
        base64::engine::general_purpose::STANDARD.encode(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The algorithms' published check values of "123456789", as S3 would encode them.
    #[tokio::test]
    async fn check_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("check");
        std::fs::write(&path, b"123456789").unwrap();
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let table = [
            (ChecksumAlgorithm::Crc32, b64(&0xCBF4_3926u32.to_be_bytes())),
            (ChecksumAlgorithm::Crc32c, b64(&0xE306_9283u32.to_be_bytes())),
            (ChecksumAlgorithm::Crc64nvme, b64(&0xAE8B_1486_0A79_9888u64.to_be_bytes())),
            (ChecksumAlgorithm::Sha1, "98O8HYCOBHMq32eZZczDTKeuNEE=".to_owned()),
            (ChecksumAlgorithm::Sha256, "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=".to_owned()),
        ];
        for (algorithm, expected) in table {
            assert_eq!(of_file(&path, algorithm).await.unwrap(), expected, "{algorithm:?}");
        }
    }
}
