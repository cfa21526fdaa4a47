//! The typed calls on buckets and their listings: create, delete, head, list, tags, location,
//! and DeleteObjects (many keys of one bucket).

use crate::error::Error;
use crate::types::{BucketInfo, DeleteObjectsResult, ListObjectsRequest, ListObjectsResult, ObjectVersion};

use super::Connector;

/// Calls on buckets.
impl Connector {
    /// CreateBucket.
    pub async fn create_bucket(&self, bucket: &str) -> Result<(), Error> {
        self.call(async |client, store| client.call_create_bucket(store, bucket).await).await
    }

    /// DeleteBucket (the bucket must be empty).
    pub async fn delete_bucket(&self, bucket: &str) -> Result<(), Error> {
        self.call(async |client, store| client.call_delete_bucket(store, bucket).await).await
    }

    /// HeadBucket: `Ok` when the bucket exists and is accessible.
    pub async fn head_bucket(&self, bucket: &str) -> Result<(), Error> {
        self.call(async |client, store| client.call_head_bucket(store, bucket).await).await
    }

    /// ListBuckets.
    pub async fn list_buckets(&self) -> Result<Vec<BucketInfo>, Error> {
        self.call(async |client, store| client.call_list_buckets(store).await).await
    }

    /// ListObjectsV2: one page.
    pub async fn list_objects(
        &self,
        bucket: &str,
        request: ListObjectsRequest,
    ) -> Result<ListObjectsResult, Error> {
        self.call(async |client, store| client.call_list_objects(store, bucket, &request).await).await
    }

    /// ListObjectVersions, every page.
    pub async fn list_object_versions(
        &self,
        bucket: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<ObjectVersion>, Error> {
        self.call(async |client, store| client.call_list_object_versions(store, bucket, prefix).await).await
    }

    /// DeleteObjects: many keys, 1000 per request, with a result per key. Needs `delete` on the
    /// whole bucket, since the keys travel in the body.
    pub async fn delete_objects(&self, bucket: &str, keys: &[String]) -> Result<DeleteObjectsResult, Error> {
        self.call(async |client, store| client.call_delete_objects(store, bucket, keys).await).await
    }

    /// GetBucketTagging: the bucket's tags, none when it has no tag set. Needs `admin`.
    pub async fn get_bucket_tags(&self, bucket: &str) -> Result<Vec<(String, String)>, Error> {
        self.call(async |client, store| client.call_get_bucket_tags(store, bucket).await).await
    }

    /// PutBucketTagging: replaces the bucket's tags (at most 50). Needs `admin`.
    pub async fn put_bucket_tags(&self, bucket: &str, tags: &[(String, String)]) -> Result<(), Error> {
        self.call(async |client, store| client.call_put_bucket_tags(store, bucket, tags).await).await
    }

    /// DeleteBucketTagging. Needs `admin`.
    pub async fn delete_bucket_tags(&self, bucket: &str) -> Result<(), Error> {
        self.call(async |client, store| client.call_delete_bucket_tags(store, bucket).await).await
    }

    /// GetBucketLocation: the bucket's region.
    pub async fn get_bucket_location(&self, bucket: &str) -> Result<String, Error> {
        self.call(async |client, store| client.call_get_bucket_location(store, bucket).await).await
    }
}
