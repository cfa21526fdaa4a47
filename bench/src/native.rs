//! The native client the plugin is compared with: aws-sdk-s3 over plain HTTP (no TLS),
//! path-style, static credentials, checksums only where S3 requires them, and native SigV4
//! presigning with aws-sigv4.

use std::path::Path;
use std::time::{Duration, SystemTime};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;

pub struct Native {
    pub client: Client,
    access_key_id: String,
    secret_access_key: String,
}

impl Native {
    pub fn new(endpoint: &str, access_key_id: &str, secret_access_key: &str) -> Self {
        let credentials = Credentials::new(access_key_id, secret_access_key, None, None, "bench");
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .force_path_style(true)
            .credentials_provider(credentials)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        Self {
            client: Client::from_conf(config),
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.to_owned(),
        }
    }

    pub async fn put_bytes(&self, bucket: &str, key: &str, body: &[u8]) -> anyhow::Result<()> {
        self.client.put_object().bucket(bucket).key(key).body(ByteStream::from(body.to_vec())).send().await?;
        Ok(())
    }

    pub async fn put_file(&self, bucket: &str, key: &str, path: &Path) -> anyhow::Result<()> {
        let body = ByteStream::from_path(path).await?;
        let length = std::fs::metadata(path)?.len();
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_length(length as i64)
            .body(body)
            .send()
            .await?;
        Ok(())
    }

    /// A multipart upload of the file as the plugin does one: `part_size` parts, `in_flight` at
    /// a time, each read from the file as it is sent.
    pub async fn put_file_multipart(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        part_size: u64,
        in_flight: usize,
    ) -> anyhow::Result<()> {
        let length = std::fs::metadata(path)?.len();
        let created = self.client.create_multipart_upload().bucket(bucket).key(key).send().await?;
        let upload_id = created.upload_id().ok_or_else(|| anyhow::anyhow!("no upload id"))?.to_owned();
        let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(in_flight));
        let mut parts = tokio::task::JoinSet::new();
        for (index, offset) in (0..length).step_by(part_size as usize).enumerate() {
            let slot = slots.clone().acquire_owned().await?;
            let size = part_size.min(length - offset);
            let number = i32::try_from(index + 1)?;
            let request = self
                .client
                .upload_part()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .part_number(number)
                .content_length(i64::try_from(size)?);
            let path = path.to_owned();
            parts.spawn(async move {
                let body = ByteStream::read_from()
                    .path(&path)
                    .offset(offset)
                    .length(Length::Exact(size))
                    .build()
                    .await?;
                let sent = request.body(body).send().await?;
                drop(slot);
                anyhow::Ok(CompletedPart::builder().part_number(number).set_e_tag(sent.e_tag).build())
            });
        }
        let mut completed = Vec::new();
        while let Some(part) = parts.join_next().await {
            completed.push(part??);
        }
        completed.sort_by_key(|part| part.part_number);
        self.client
            .complete_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(completed)).build())
            .send()
            .await?;
        Ok(())
    }

    /// GetObject in ranges of `range_size` bytes, `in_flight` at a time, each written into the
    /// file at `path` at its offset chunk by chunk as it arrives, as the plugin downloads into a
    /// file sink; returns the bytes written.
    pub async fn get_ranges_into_file(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        range_size: u64,
        in_flight: usize,
    ) -> anyhow::Result<u64> {
        use std::os::unix::fs::FileExt;
        let length =
            self.client.head_object().bucket(bucket).key(key).send().await?.content_length().unwrap_or(0);
        let length = u64::try_from(length)?;
        let file = std::sync::Arc::new(std::fs::File::create(path)?);
        let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(in_flight));
        let mut ranges = tokio::task::JoinSet::new();
        for first in (0..length).step_by(range_size as usize) {
            let slot = slots.clone().acquire_owned().await?;
            let last = (first + range_size).min(length) - 1;
            let request =
                self.client.get_object().bucket(bucket).key(key).range(format!("bytes={first}-{last}"));
            let file = file.clone();
            ranges.spawn(async move {
                let mut answer = request.send().await?;
                let mut offset = first;
                while let Some(chunk) = answer.body.try_next().await? {
                    file.write_all_at(&chunk, offset)?;
                    offset += chunk.len() as u64;
                }
                drop(slot);
                anyhow::Ok(offset - first)
            });
        }
        let mut written = 0;
        while let Some(range) = ranges.join_next().await {
            written += range??;
        }
        Ok(written)
    }

    /// GetObject, the body read and discarded; returns its length.
    pub async fn get_discard(&self, bucket: &str, key: &str) -> anyhow::Result<u64> {
        let mut answer = self.client.get_object().bucket(bucket).key(key).send().await?;
        let mut length = 0u64;
        while let Some(chunk) = answer.body.try_next().await? {
            length += chunk.len() as u64;
        }
        Ok(length)
    }

    pub async fn head(&self, bucket: &str, key: &str) -> anyhow::Result<()> {
        self.client.head_object().bucket(bucket).key(key).send().await?;
        Ok(())
    }

    /// A presigned GET URL, signed by aws-sigv4 as the SDKs sign S3 URLs.
    pub fn presign(&self, url: &str, expires_in: Duration) -> anyhow::Result<String> {
        let identity = aws_credential_types::Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.clone(),
            None,
            None,
            "bench",
        )
        .into();
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires_in);
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()?
            .into();
        let signable = SignableRequest::new("GET", url, std::iter::empty(), SignableBody::UnsignedPayload)?;
        let (instructions, _signature) = sign(signable, &params)?.into_parts();
        let mut request = http::Request::builder().uri(url).body(())?;
        instructions.apply_to_request_http1x(&mut request);
        Ok(request.uri().to_string())
    }
}
