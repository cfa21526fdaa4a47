//! The typed calls of multipart uploads, for engines that drive parts themselves
//! ([`Connector::put_object`] does all of it for a stream).

use tokio::io::AsyncRead;

use crate::error::Error;
use crate::types::{CompletedPart, MultipartUpload, ObjectRef, PartInfo, PutOptions, PutResult, UploadRef};

use super::{Connector, input_stream};

/// Calls of multipart uploads.
impl Connector {
    /// CreateMultipartUpload: starts an upload of `object` and returns it, with its upload id.
    /// For callers that drive parts themselves; [`Connector::put_object`] does all of it for a
    /// stream.
    pub async fn create_multipart_upload(
        &self,
        object: &ObjectRef,
        options: PutOptions,
    ) -> Result<UploadRef, Error> {
        self.call(async |client, store| client.call_create_multipart_upload(store, object, &options).await)
            .await
    }

    /// UploadPart: `length` bytes from `body` as part `part_number` of `upload`; returns the
    /// part's ETag.
    pub async fn upload_part(
        &self,
        upload: &UploadRef,
        part_number: u32,
        body: impl AsyncRead + Send + 'static,
        length: u64,
    ) -> Result<String, Error> {
        self.call(async |client, store| {
            let body = input_stream(store, body)?;
            client.call_upload_part(store, upload, part_number, body, length).await
        })
        .await
    }

    /// UploadPartCopy: part `part_number` of `upload` copied from `source`, or from the
    /// inclusive byte range of it. Returns the part's ETag.
    pub async fn upload_part_copy(
        &self,
        source: &ObjectRef,
        range: Option<(u64, u64)>,
        upload: &UploadRef,
        part_number: u32,
    ) -> Result<String, Error> {
        self.call(async |client, store| {
            client.call_upload_part_copy(store, source, range, upload, part_number).await
        })
        .await
    }

    /// CompleteMultipartUpload: assembles `parts`, in ascending part order.
    pub async fn complete_multipart_upload(
        &self,
        upload: &UploadRef,
        parts: &[CompletedPart],
    ) -> Result<PutResult, Error> {
        self.call(async |client, store| client.call_complete_multipart_upload(store, upload, parts).await)
            .await
    }

    /// AbortMultipartUpload: discards the upload and its parts.
    pub async fn abort_multipart_upload(&self, upload: &UploadRef) -> Result<(), Error> {
        self.call(async |client, store| client.call_abort_multipart_upload(store, upload).await).await
    }

    /// ListMultipartUploads of `bucket`, under an optional prefix, every page.
    pub async fn list_multipart_uploads(
        &self,
        bucket: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<MultipartUpload>, Error> {
        self.call(async |client, store| client.call_list_multipart_uploads(store, bucket, prefix).await).await
    }

    /// ListParts of `upload`, every page.
    pub async fn list_parts(&self, upload: &UploadRef) -> Result<Vec<PartInfo>, Error> {
        self.call(async |client, store| client.call_list_parts(store, upload).await).await
    }
}
