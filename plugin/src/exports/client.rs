//! The exported `client` interface: thin glue from the contract to [`crate::operations`], which
//! checks each bucket name and key into a checked type where the call enters.

use crate::bindings::exports::s3_connector::s3::client::Guest;
use crate::bindings::s3_connector::s3::seekable::{Sink, Source};
use crate::bindings::s3_connector::s3::types::{
    BucketInfo, CompletedPart, CopyOptions, CopyResult, DeleteObjectsResult, GetOptions, ListObjectsRequest,
    ListObjectsResult, MultipartUpload, ObjectInfo, ObjectRef, ObjectVersion, PartInfo, PresignRequest,
    PutOptions, PutResult, S3Error, UploadRef,
};
use crate::bindings::wasi::io::streams::{InputStream, OutputStream};
use crate::operations as op;
use crate::operations::{bucket_tagging, multipart};
use crate::protocol::checked_names::{Bucket, Object};
use crate::transfers::multipart_upload::{REPLAY_LIMIT, read_exactly};
use crate::transport::client::S3;
use crate::transport::range_sink::RangeSink;
use crate::transport::range_source::RangeSource;
use crate::transport::wire::Body;

/// The component's implementation of the exported interfaces.
pub struct Plugin;

impl Guest for Plugin {
    fn create_bucket(bucket: String) -> Result<(), S3Error> {
        op::create_bucket(&S3::from_host()?, Bucket::checked(&bucket)?)
    }

    fn delete_bucket(bucket: String) -> Result<(), S3Error> {
        op::delete_bucket(&S3::from_host()?, Bucket::checked(&bucket)?)
    }

    fn head_bucket(bucket: String) -> Result<(), S3Error> {
        op::head_bucket(&S3::from_host()?, Bucket::checked(&bucket)?)
    }

    fn list_buckets() -> Result<Vec<BucketInfo>, S3Error> {
        op::list_buckets(&S3::from_host()?)
    }

    fn put_object(
        object: ObjectRef,
        body: &InputStream,
        length: Option<u64>,
        options: PutOptions,
    ) -> Result<PutResult, S3Error> {
        crate::transfers::multipart_upload::upload_stream(
            &S3::from_host()?,
            Object::of(&object)?,
            body,
            length,
            &options,
        )
    }

    fn put_object_from(
        object: ObjectRef,
        source: &Source,
        options: PutOptions,
    ) -> Result<PutResult, S3Error> {
        let object = Object::of(&object)?;
        crate::transfers::multipart_upload::upload_seekable(&S3::from_host()?, object, source, &options)
    }

    fn put_object_bytes(object: ObjectRef, body: Vec<u8>, options: PutOptions) -> Result<PutResult, S3Error> {
        let body = if body.is_empty() { Body::Empty } else { Body::Bytes(&body) };
        op::put_object(&S3::from_host()?, Object::of(&object)?, body, &options)
    }

    fn get_object(
        object: ObjectRef,
        sink: &OutputStream,
        options: GetOptions,
    ) -> Result<ObjectInfo, S3Error> {
        crate::transfers::download::get_object(&S3::from_host()?, Object::of(&object)?, sink, &options)
    }

    fn get_object_into(object: ObjectRef, sink: &Sink, options: GetOptions) -> Result<ObjectInfo, S3Error> {
        crate::transfers::download::get_object_into(&S3::from_host()?, Object::of(&object)?, sink, &options)
    }

    fn head_object(object: ObjectRef, options: GetOptions) -> Result<ObjectInfo, S3Error> {
        op::head_object(&S3::from_host()?, Object::of(&object)?, &options)
    }

    fn delete_object(object: ObjectRef, version_id: Option<String>) -> Result<(), S3Error> {
        op::delete_object(&S3::from_host()?, Object::of(&object)?, version_id.as_deref())
    }

    fn list_objects(bucket: String, request: ListObjectsRequest) -> Result<ListObjectsResult, S3Error> {
        op::list_objects(&S3::from_host()?, Bucket::checked(&bucket)?, &request)
    }

    fn copy_object(source: ObjectRef, target: ObjectRef) -> Result<CopyResult, S3Error> {
        let (source, target) = (Object::of(&source)?, Object::of(&target)?);
        crate::transfers::copy::single(&S3::from_host()?, source, target, Vec::new())
    }

    fn copy_object_with(
        source: ObjectRef,
        target: ObjectRef,
        options: CopyOptions,
    ) -> Result<CopyResult, S3Error> {
        let (source, target) = (Object::of(&source)?, Object::of(&target)?);
        crate::transfers::copy::copy_with(&S3::from_host()?, source, target, &options)
    }

    fn presign(request: PresignRequest) -> Result<String, S3Error> {
        let object = Object::of(&request.object)?;
        op::presign(&S3::from_host()?, object, request.method, request.expires_in_seconds)
    }

    fn delete_objects(bucket: String, keys: Vec<String>) -> Result<DeleteObjectsResult, S3Error> {
        op::delete_objects(&S3::from_host()?, Bucket::checked(&bucket)?, &keys)
    }

    fn get_object_tags(object: ObjectRef) -> Result<Vec<(String, String)>, S3Error> {
        op::get_object_tags(&S3::from_host()?, Object::of(&object)?)
    }

    fn put_object_tags(object: ObjectRef, tags: Vec<(String, String)>) -> Result<(), S3Error> {
        op::put_object_tags(&S3::from_host()?, Object::of(&object)?, &tags)
    }

    fn delete_object_tags(object: ObjectRef) -> Result<(), S3Error> {
        op::delete_object_tags(&S3::from_host()?, Object::of(&object)?)
    }

    fn get_bucket_tags(bucket: String) -> Result<Vec<(String, String)>, S3Error> {
        bucket_tagging::get(&S3::from_host()?, Bucket::checked(&bucket)?)
    }

    fn put_bucket_tags(bucket: String, tags: Vec<(String, String)>) -> Result<(), S3Error> {
        bucket_tagging::put(&S3::from_host()?, Bucket::checked(&bucket)?, &tags)
    }

    fn delete_bucket_tags(bucket: String) -> Result<(), S3Error> {
        bucket_tagging::delete(&S3::from_host()?, Bucket::checked(&bucket)?)
    }

    fn get_bucket_location(bucket: String) -> Result<String, S3Error> {
        op::get_bucket_location(&S3::from_host()?, Bucket::checked(&bucket)?)
    }

    fn create_multipart_upload(object: ObjectRef, options: PutOptions) -> Result<UploadRef, S3Error> {
        let upload_id = multipart::create(&S3::from_host()?, Object::of(&object)?, &options)?;
        Ok(UploadRef { bucket: object.bucket, key: object.key, upload_id })
    }

    fn upload_part(
        upload: UploadRef,
        part_number: u32,
        body: &InputStream,
        length: u64,
    ) -> Result<String, S3Error> {
        let object = Object::of_upload(&upload)?;
        let (s3, upload_id) = (S3::from_host()?, &upload.upload_id);
        // A part up to the replay limit is read first, so that a transient failure resends it.
        if length > 0 && length <= REPLAY_LIMIT {
            let bytes = read_exactly(body, length)?;
            return multipart::upload_part(&s3, object, upload_id, part_number, Body::Bytes(&bytes), None);
        }
        let body = if length == 0 { Body::Empty } else { Body::Stream { source: body, length } };
        multipart::upload_part(&s3, object, upload_id, part_number, body, None)
    }

    fn upload_part_copy(
        source: ObjectRef,
        range: Option<(u64, u64)>,
        upload: UploadRef,
        part_number: u32,
    ) -> Result<String, S3Error> {
        let (source, target) = (Object::of(&source)?, Object::of_upload(&upload)?);
        multipart::upload_part_copy(
            &S3::from_host()?,
            source,
            range,
            target,
            &upload.upload_id,
            part_number,
            None,
        )
    }

    fn complete_multipart_upload(upload: UploadRef, parts: Vec<CompletedPart>) -> Result<PutResult, S3Error> {
        multipart::complete(&S3::from_host()?, Object::of_upload(&upload)?, &upload.upload_id, &parts)
    }

    fn abort_multipart_upload(upload: UploadRef) -> Result<(), S3Error> {
        multipart::abort(&S3::from_host()?, Object::of_upload(&upload)?, &upload.upload_id)
    }

    fn list_multipart_uploads(
        bucket: String,
        prefix: Option<String>,
    ) -> Result<Vec<MultipartUpload>, S3Error> {
        multipart::list_uploads(&S3::from_host()?, Bucket::checked(&bucket)?, prefix.as_deref())
    }

    fn list_parts(upload: UploadRef) -> Result<Vec<PartInfo>, S3Error> {
        multipart::list_parts(&S3::from_host()?, Object::of_upload(&upload)?, &upload.upload_id)
    }

    fn list_object_versions(bucket: String, prefix: Option<String>) -> Result<Vec<ObjectVersion>, S3Error> {
        op::list_object_versions(&S3::from_host()?, Bucket::checked(&bucket)?, prefix.as_deref())
    }
}

/// The host's seekable source, as the transport reads ranges of it.
impl RangeSource for Source {
    fn length(&self) -> u64 {
        Source::length(self)
    }

    fn open(&self, offset: u64, length: u64) -> Result<InputStream, String> {
        self.read_range(offset, length)
    }
}

/// The host's seekable sink, as downloads write ranges into it.
impl RangeSink for Sink {
    fn open(&self, offset: u64) -> Result<OutputStream, String> {
        self.write_range(offset)
    }
}
