//! The flags of an upload: headers, metadata, tags, encryption and conditions.

use clap::Args;

use s3_connector_host::types::{ChecksumAlgorithm, Conditions, CopyOptions, Encryption, PutOptions};

/// Flags that shape a new object. All optional; none given means S3's defaults.
#[derive(Args, Debug, Default)]
#[command(
    next_help_heading = "Object options (uploads; --metadata and --content-type on S3-to-S3 copies; --sse-c-key-file on every read too)"
)]
pub struct UploadFlags {
    /// Content-Type (default: guessed from the file name's extension).
    #[arg(long)]
    content_type: Option<String>,
    /// Content-Disposition, for example 'attachment; filename="a.pdf"'.
    #[arg(long)]
    content_disposition: Option<String>,
    /// Cache-Control.
    #[arg(long)]
    cache_control: Option<String>,
    /// Content-Encoding, for example gzip.
    #[arg(long)]
    content_encoding: Option<String>,
    /// Storage class, for example STANDARD_IA.
    #[arg(long)]
    storage_class: Option<String>,
    /// User metadata KEY=VALUE (x-amz-meta-KEY). Repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    metadata: Vec<String>,
    /// A tag KEY=VALUE. Repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    tag: Vec<String>,
    /// Server-side encryption: AES256 (SSE-S3) or aws:kms (SSE-KMS).
    #[arg(long, value_parser = ["AES256", "aws:kms"])]
    sse: Option<String>,
    /// The KMS key id or ARN for --sse aws:kms.
    #[arg(long, value_name = "ID")]
    sse_kms_key_id: Option<String>,
    /// SSE-C: a file holding the 32-byte key (raw, or base64 text). The key is never printed.
    #[arg(long, value_name = "FILE")]
    sse_c_key_file: Option<std::path::PathBuf>,
    /// Write only if the object's ETag is this one.
    #[arg(long, value_name = "ETAG")]
    if_match: Option<String>,
    /// Write only if no object has this ETag; '*' writes only if the key is free.
    #[arg(long, value_name = "ETAG")]
    if_none_match: Option<String>,
    /// The checksum S3 verifies on upload: CRC32, CRC32C, SHA1, SHA256, CRC64NVME, or none
    /// (default CRC64NVME, none under AWS_REQUEST_CHECKSUM_CALCULATION=when_required or the
    /// profile's request_checksum_calculation; sent as a trailer for streamed files, a header
    /// per part of multipart uploads, whose CRCs are full-object checksums).
    #[arg(long, value_name = "ALGORITHM", value_parser = ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME", "none"], ignore_case = true)]
    checksum_algorithm: Option<String>,
    /// The algorithm of an upload without `--checksum-algorithm`, from the checksum
    /// calculation setting; set by the command before the options are read.
    #[arg(skip)]
    pub default_checksum: Option<ChecksumAlgorithm>,
    /// Multipart part size in MiB, 5 to 256 (default 8).
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(5..=256))]
    part_size_mib: Option<u64>,
    /// Parts uploaded at once, 1 to 16 (default 4).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=16))]
    parallel_parts: Option<u32>,
    /// Files larger than this many MiB go as multipart uploads (default 16; at most 5120, S3's
    /// 5 GiB limit of one PutObject).
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(0..=5120))]
    multipart_threshold_mib: Option<u64>,
}

const MIB: u64 = 1024 * 1024;

impl UploadFlags {
    /// The options these flags ask for, `None` when no flag was given.
    pub fn to_options(&self) -> Result<Option<PutOptions>, String> {
        let pairs = |flag: &str, values: &[String]| -> Result<Vec<(String, String)>, String> {
            values
                .iter()
                .map(|v| {
                    v.split_once('=')
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .filter(|(k, _)| !k.is_empty())
                        .ok_or_else(|| format!("--{flag} {v:?} is not KEY=VALUE"))
                })
                .collect()
        };
        let encryption = match (self.sse.as_deref(), &self.sse_kms_key_id, &self.sse_c_key_file) {
            (None, None, None) => None,
            (Some("AES256"), None, None) => Some(Encryption::S3Managed),
            (Some("aws:kms"), key_id, None) => Some(Encryption::Kms(key_id.clone())),
            (None, Some(_), None) => return Err("--sse-kms-key-id needs --sse aws:kms".to_owned()),
            (None, None, Some(path)) => Some(Encryption::CustomerKey(read_customer_key(path)?)),
            _ => return Err(
                "choose one encryption: --sse AES256, --sse aws:kms [--sse-kms-key-id], or --sse-c-key-file"
                    .to_owned(),
            ),
        };
        let options = PutOptions {
            content_type: self.content_type.clone(),
            metadata: pairs("metadata", &self.metadata)?,
            content_disposition: self.content_disposition.clone(),
            cache_control: self.cache_control.clone(),
            content_encoding: self.content_encoding.clone(),
            storage_class: self.storage_class.clone(),
            tags: pairs("tag", &self.tag)?,
            encryption,
            conditions: Conditions {
                if_match: self.if_match.clone(),
                if_none_match: self.if_none_match.clone(),
                ..Default::default()
            },
            checksum: super::upload_checksum::choose(
                self.checksum_algorithm.as_deref(),
                self.default_checksum,
            )?,
            multipart_threshold: self.multipart_threshold_mib.map(|n| n.saturating_mul(MIB)),
            part_size: self.part_size_mib.map(|n| n.saturating_mul(MIB)),
            parallel_parts: self.parallel_parts,
        };
        let nothing_given = self.content_type.is_none()
            && self.content_disposition.is_none()
            && self.cache_control.is_none()
            && self.content_encoding.is_none()
            && self.storage_class.is_none()
            && self.metadata.is_empty()
            && self.tag.is_empty()
            && options.encryption.is_none()
            && self.if_match.is_none()
            && self.if_none_match.is_none()
            && options.checksum.is_none()
            && self.part_size_mib.is_none()
            && self.parallel_parts.is_none()
            && self.multipart_threshold_mib.is_none();
        Ok((!nothing_given).then_some(options))
    }
}

impl UploadFlags {
    /// The flags given, as the user spelled them, so that a kind of copy can refuse by name
    /// those that do not apply to it.
    pub fn given(&self) -> Vec<&'static str> {
        let flags = [
            ("--content-type", self.content_type.is_some()),
            ("--content-disposition", self.content_disposition.is_some()),
            ("--cache-control", self.cache_control.is_some()),
            ("--content-encoding", self.content_encoding.is_some()),
            ("--storage-class", self.storage_class.is_some()),
            ("--metadata", !self.metadata.is_empty()),
            ("--tag", !self.tag.is_empty()),
            ("--sse", self.sse.is_some()),
            ("--sse-kms-key-id", self.sse_kms_key_id.is_some()),
            ("--sse-c-key-file", self.sse_c_key_file.is_some()),
            ("--if-match", self.if_match.is_some()),
            ("--if-none-match", self.if_none_match.is_some()),
            ("--checksum-algorithm", self.checksum_algorithm.is_some()),
            ("--part-size-mib", self.part_size_mib.is_some()),
            ("--parallel-parts", self.parallel_parts.is_some()),
            ("--multipart-threshold-mib", self.multipart_threshold_mib.is_some()),
        ];
        flags.into_iter().filter(|(_, given)| *given).map(|(name, _)| name).collect()
    }

    /// The SSE-C key of `--sse-c-key-file`, which a read of an SSE-C object needs as much as
    /// its upload did.
    pub fn customer_key(&self) -> Result<Option<Vec<u8>>, String> {
        self.sse_c_key_file.as_deref().map(read_customer_key).transpose()
    }

    /// The options of a server-side copy: `--metadata` replaces the copy's metadata (and
    /// `--content-type` its type), as `aws s3 cp --metadata` does between two S3 locations.
    pub fn copy_options(&self) -> Result<CopyOptions, String> {
        let options = self.to_options()?.unwrap_or_default();
        let replaced = !self.metadata.is_empty() || self.content_type.is_some();
        Ok(CopyOptions {
            metadata: replaced.then_some(options.metadata),
            content_type: options.content_type,
            ..Default::default()
        })
    }
}

/// Reads a 32-byte key, raw or as base64 text. Errors never quote the file's content.
pub(super) fn read_customer_key(path: &std::path::Path) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read the SSE-C key file {}: {e}", path.display()))?;
    if bytes.len() == 32 {
        return Ok(bytes);
    }
    let text = String::from_utf8_lossy(&bytes);
    match base64::engine::general_purpose::STANDARD.decode(text.trim()) {
        Ok(key) if key.len() == 32 => Ok(key),
        _ => Err(format!(
            "the SSE-C key file {} holds {} bytes; it needs 32 raw bytes or their base64",
            path.display(),
            bytes.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_options() {
        assert!(UploadFlags::default().to_options().unwrap().is_none());
        let flags = UploadFlags {
            metadata: vec!["owner=ops".into()],
            tag: vec!["team=a=b".into()],
            sse: Some("aws:kms".into()),
            sse_kms_key_id: Some("key-1".into()),
            if_none_match: Some("*".into()),
            ..Default::default()
        };
        let options = flags.to_options().unwrap().unwrap();
        assert_eq!(options.metadata, [("owner".to_owned(), "ops".to_owned())]);
        assert_eq!(options.tags, [("team".to_owned(), "a=b".to_owned())]);
        assert!(matches!(options.encryption, Some(Encryption::Kms(Some(ref id))) if id == "key-1"));
        assert_eq!(options.conditions.if_none_match.as_deref(), Some("*"));
        assert_eq!(options.checksum, None);
        let flags = UploadFlags { checksum_algorithm: Some("crc64nvme".into()), ..Default::default() };
        assert_eq!(flags.to_options().unwrap().unwrap().checksum, Some(ChecksumAlgorithm::Crc64nvme));
        // The calculation setting's default reaches an upload given no flag at all, and
        // `--checksum-algorithm none` turns it off.
        let default =
            UploadFlags { default_checksum: Some(ChecksumAlgorithm::Crc64nvme), ..Default::default() };
        assert_eq!(default.to_options().unwrap().unwrap().checksum, Some(ChecksumAlgorithm::Crc64nvme));
        let off = UploadFlags { checksum_algorithm: Some("none".into()), ..default };
        assert_eq!(off.to_options().unwrap().unwrap_or_default().checksum, None);
        let flags = UploadFlags {
            part_size_mib: Some(16),
            parallel_parts: Some(8),
            multipart_threshold_mib: Some(64),
            ..Default::default()
        };
        let options = flags.to_options().unwrap().unwrap();
        assert_eq!(
            (options.part_size, options.parallel_parts, options.multipart_threshold),
            (Some(16 * MIB), Some(8), Some(64 * MIB))
        );
    }

    #[test]
    fn bad_flags_name_themselves() {
        let bad = UploadFlags { metadata: vec!["novalue".into()], ..Default::default() };
        assert!(bad.to_options().unwrap_err().contains("--metadata \"novalue\""));
        let both = UploadFlags {
            sse: Some("AES256".into()),
            sse_kms_key_id: Some("k".into()),
            ..Default::default()
        };
        assert!(both.to_options().unwrap_err().contains("choose one encryption"));
        let dir = tempfile::tempdir().unwrap();
        let short = dir.path().join("key");
        std::fs::write(&short, b"0123456789").unwrap();
        let flags = UploadFlags { sse_c_key_file: Some(short), ..Default::default() };
        let error = flags.to_options().unwrap_err();
        assert!(error.contains("10 bytes") && !error.contains("0123456789"), "{error}");
    }
}
