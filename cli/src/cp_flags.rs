//! Which of `cp`'s flags apply to which kind of copy. One rule ("object flags apply to uploads
//! only") refused the SSE-C key on downloads, though an SSE-C object cannot be read without
//! it, and `--metadata` on S3-to-S3 copies, which the library supports. Here each kind of copy
//! names the flags it takes, and a refusal names the flag and the kind of copy.

use super::commands::Transfer;
use super::download_flags::DownloadFlags;
use super::s3_uri::S3Uri;
use super::upload_flags::UploadFlags;
use s3_connector_host::error::Error;

/// The kind of copy `cp SRC DST` makes, from where its two sides are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A local file, a directory or stdin to S3.
    Upload,
    /// S3 to a local file, a directory or stdout.
    Download,
    /// S3 to S3, server-side.
    Copy,
}

impl Kind {
    /// The kind of `cp source destination`; two local sides count as an upload, which `cp`
    /// then refuses with its own message.
    pub fn of(source: &str, destination: &str) -> Kind {
        match (S3Uri::parse(source).is_some(), S3Uri::parse(destination).is_some()) {
            (true, true) => Kind::Copy,
            (true, false) => Kind::Download,
            (false, _) => Kind::Upload,
        }
    }

    /// The object flags this kind of copy takes (the download flags go with downloads only).
    fn takes(self) -> &'static [&'static str] {
        match self {
            Kind::Upload => &[],
            Kind::Download => &["--sse-c-key-file"],
            Kind::Copy => &["--metadata", "--content-type"],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Upload => "an upload",
            Kind::Download => "a download",
            Kind::Copy => "an S3-to-S3 copy",
        }
    }
}

/// The transfer options of a `cp` of this kind, or a usage error naming the first flag that
/// does not apply to it.
pub fn transfer(kind: Kind, upload: &UploadFlags, download: &DownloadFlags) -> Result<Transfer, Error> {
    if kind != Kind::Upload
        && let Some(flag) = upload.given().into_iter().find(|flag| !kind.takes().contains(flag))
    {
        let takes = match kind.takes() {
            [] => String::new(),
            flags => format!("; it takes {}", flags.join(" and ")),
        };
        return Err(Error::Usage(format!("{flag} does not apply to {}{takes}", kind.name())));
    }
    if kind != Kind::Download && download.given() {
        return Err(Error::Usage(
            "--parallel-ranges and --range-size-mib apply to downloads only".to_owned(),
        ));
    }
    let mut transfer = Transfer::default();
    match kind {
        Kind::Upload => transfer.upload = upload.to_options().map_err(Error::Usage)?,
        Kind::Download => {
            transfer.download = download.to_options();
            transfer.download.customer_key = upload.customer_key().map_err(Error::Usage)?;
        }
        Kind::Copy => transfer.copy = upload.copy_options().map_err(Error::Usage)?,
    }
    Ok(transfer)
}
