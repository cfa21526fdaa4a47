//! S3's names of the contract's checksum algorithms, as `x-amz-checksum-algorithm` and the aws
//! CLI's output spell them. Both sides of the wall have their own generated
//! `ChecksumAlgorithm`, so the names are written once here as a macro applied to both.

/// Implements `ChecksumAlgorithm::s3_name` for the generated `ChecksumAlgorithm` in scope.
#[macro_export]
macro_rules! checksum_names {
    () => {
        impl ChecksumAlgorithm {
            /// S3's name of the algorithm (`CRC32`, `CRC32C`, `SHA1`, `SHA256`, `CRC64NVME`).
            pub fn s3_name(self) -> &'static str {
                match self {
                    ChecksumAlgorithm::Crc32 => "CRC32",
                    ChecksumAlgorithm::Crc32c => "CRC32C",
                    ChecksumAlgorithm::Sha1 => "SHA1",
                    ChecksumAlgorithm::Sha256 => "SHA256",
                    ChecksumAlgorithm::Crc64nvme => "CRC64NVME",
                }
            }
        }
    };
}
