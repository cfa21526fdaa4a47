//! The typed calls on single objects: put, get, head, delete, copy, tags.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use wasmtime::component::Resource;
use wasmtime_wasi::p2::DynOutputStream;

use crate::error::Error;
use crate::runtime::inline_write_stream::InlineWriteStream;
use crate::runtime::limits::SINK_BUDGET_BYTES;
use crate::runtime::seekable_handles::{SinkHandle, SourceHandle};
#[cfg(doc)]
use crate::seekable::{FileSink, FileSource};
use crate::seekable::{SeekableSink, SeekableSource};
use crate::types::{CopyOptions, CopyResult, GetOptions, ObjectInfo, ObjectRef, PutOptions, PutResult};

use super::{Connector, input_stream};

/// Calls on objects.
impl Connector {
    /// PutObject from a reader. With `length` the body streams in one request; without, the
    /// plugin uploads in parts and aborts the upload if anything fails. Never buffered whole.
    pub async fn put_object(
        &self,
        object: &ObjectRef,
        body: impl AsyncRead + Send + 'static,
        length: Option<u64>,
        options: PutOptions,
    ) -> Result<PutResult, Error> {
        self.call(async |client, store| {
            let body = input_stream(store, body)?;
            client.call_put_object(store, object, body, length, &options).await
        })
        .await
    }

    /// PutObject from a source the host reads at any offset (a file: [`FileSource`]). Up to the
    /// multipart threshold one request; above it the plugin uploads in parts side by side, each
    /// part's range read by the host into its request as the connection takes it (and read
    /// again for a retry), so no part is ever held whole in the sandbox's memory; aborted if
    /// anything fails.
    pub async fn put_object_from(
        &self,
        object: &ObjectRef,
        source: impl SeekableSource + 'static,
        options: PutOptions,
    ) -> Result<PutResult, Error> {
        let source: Arc<dyn SeekableSource> = Arc::new(source);
        self.call(async |client, store| {
            let handle = store.data_mut().table.push(SourceHandle(source.clone()))?;
            client.call_put_object_from(store, object, Resource::new_borrow(handle.rep()), &options).await
        })
        .await
    }

    /// PutObject from bytes in memory.
    pub async fn put_object_bytes(
        &self,
        object: &ObjectRef,
        body: &[u8],
        options: PutOptions,
    ) -> Result<PutResult, Error> {
        self.call(async |client, store| client.call_put_object_bytes(store, object, body, &options).await)
            .await
    }

    /// GetObject, streamed into `sink` as it arrives. Returns once every byte was written and
    /// the sink flushed.
    pub async fn get_object(
        &self,
        object: &ObjectRef,
        sink: impl AsyncWrite + Send + 'static,
        options: GetOptions,
    ) -> Result<ObjectInfo, Error> {
        self.call(async |client, store| {
            let stream: DynOutputStream = Box::new(InlineWriteStream::new(SINK_BUDGET_BYTES, sink));
            let sink = store.data_mut().table.push(stream)?;
            client.call_get_object(store, object, Resource::new_borrow(sink.rep()), &options).await
        })
        .await
    }

    /// GetObject into a sink the host writes at any offset (a file: [`FileSink`], then
    /// [`FileSink::persist`]). With `parallel_ranges`, each range is written where it belongs as
    /// soon as it arrives, none held back for the ones before it, and streams through the
    /// sandbox a chunk at a time; the full-object checksum, if any, is verified. Returns once
    /// every byte was written.
    pub async fn get_object_into(
        &self,
        object: &ObjectRef,
        sink: impl SeekableSink + 'static,
        options: GetOptions,
    ) -> Result<ObjectInfo, Error> {
        let sink: Arc<dyn SeekableSink> = Arc::new(sink);
        self.call(async |client, store| {
            let handle = store.data_mut().table.push(SinkHandle(sink.clone()))?;
            client.call_get_object_into(store, object, Resource::new_borrow(handle.rep()), &options).await
        })
        .await
    }

    /// HeadObject.
    pub async fn head_object(&self, object: &ObjectRef) -> Result<ObjectInfo, Error> {
        self.head_object_with(object, GetOptions::default()).await
    }

    /// HeadObject of a version, under conditions, or of an SSE-C object.
    pub async fn head_object_with(
        &self,
        object: &ObjectRef,
        options: GetOptions,
    ) -> Result<ObjectInfo, Error> {
        self.call(async |client, store| client.call_head_object(store, object, &options).await).await
    }

    /// DeleteObject (a missing key is not an error, as in S3).
    pub async fn delete_object(&self, object: &ObjectRef) -> Result<(), Error> {
        self.delete_object_version(object, None).await
    }

    /// DeleteObject of one version, or of the current object with `None`.
    pub async fn delete_object_version(
        &self,
        object: &ObjectRef,
        version_id: Option<&str>,
    ) -> Result<(), Error> {
        self.call(async |client, store| client.call_delete_object(store, object, version_id).await).await
    }

    /// CopyObject of `source` to `target`: server-side, within or across buckets, in one
    /// request (up to 5 GiB). The host checks `read` on the source (from the request's
    /// `x-amz-copy-source`) and `write` on the target.
    pub async fn copy_object(&self, source: &ObjectRef, target: &ObjectRef) -> Result<CopyResult, Error> {
        self.call(async |client, store| client.call_copy_object(store, source, target).await).await
    }

    /// A copy of any size with options: source conditions, metadata replaced, UploadPartCopy
    /// above 5 GiB (after a HEAD of the source). A copy onto itself without new metadata is
    /// refused before anything is sent.
    pub async fn copy_object_with(
        &self,
        source: &ObjectRef,
        target: &ObjectRef,
        options: CopyOptions,
    ) -> Result<CopyResult, Error> {
        self.call(async |client, store| client.call_copy_object_with(store, source, target, &options).await)
            .await
    }

    /// GetObjectTagging.
    pub async fn get_object_tags(&self, object: &ObjectRef) -> Result<Vec<(String, String)>, Error> {
        self.call(async |client, store| client.call_get_object_tags(store, object).await).await
    }

    /// PutObjectTagging: replaces the object's tags.
    pub async fn put_object_tags(&self, object: &ObjectRef, tags: &[(String, String)]) -> Result<(), Error> {
        self.call(async |client, store| client.call_put_object_tags(store, object, tags).await).await
    }

    /// DeleteObjectTagging.
    pub async fn delete_object_tags(&self, object: &ObjectRef) -> Result<(), Error> {
        self.call(async |client, store| client.call_delete_object_tags(store, object).await).await
    }
}
