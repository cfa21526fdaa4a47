//! The S3 actions the connector sends, each with its API name, HTTP method and access class:
//! one table both sides read. The plugin names the action of every request it builds; the
//! host classifies every request from the wire into an action on its own and looks its access
//! class up here, so the two agree on what an action needs without trusting each other.

use http::Method;

use crate::Access;

/// An S3 API action, named as S3's API reference and IAM name it (`GetObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum S3Action {
    /// `GET /`.
    ListBuckets,
    /// `PUT /bucket`.
    CreateBucket,
    /// `DELETE /bucket`.
    DeleteBucket,
    /// `HEAD /bucket`.
    HeadBucket,
    /// `GET /bucket?location`.
    GetBucketLocation,
    /// `GET /bucket?list-type=2`.
    ListObjectsV2,
    /// `GET /bucket` (version 1, which the host still recognises).
    ListObjects,
    /// `GET /bucket?versions`.
    ListObjectVersions,
    /// `GET /bucket?uploads`.
    ListMultipartUploads,
    /// `POST /bucket?delete`: the keys travel in the body.
    DeleteObjects,
    /// `GET /bucket?tagging`.
    GetBucketTagging,
    /// `PUT /bucket?tagging`.
    PutBucketTagging,
    /// `DELETE /bucket?tagging`.
    DeleteBucketTagging,
    /// `GET /bucket/key`.
    GetObject,
    /// `HEAD /bucket/key`.
    HeadObject,
    /// `PUT /bucket/key`.
    PutObject,
    /// `PUT /bucket/key` with `x-amz-copy-source`.
    CopyObject,
    /// `DELETE /bucket/key`.
    DeleteObject,
    /// `POST /bucket/key?uploads`.
    CreateMultipartUpload,
    /// `PUT /bucket/key?partNumber&uploadId`.
    UploadPart,
    /// `PUT /bucket/key?partNumber&uploadId` with `x-amz-copy-source`.
    UploadPartCopy,
    /// `POST /bucket/key?uploadId`.
    CompleteMultipartUpload,
    /// `DELETE /bucket/key?uploadId`.
    AbortMultipartUpload,
    /// `GET /bucket/key?uploadId`.
    ListParts,
    /// `GET /bucket/key?tagging`.
    GetObjectTagging,
    /// `PUT /bucket/key?tagging`.
    PutObjectTagging,
    /// `DELETE /bucket/key?tagging`.
    DeleteObjectTagging,
}

impl S3Action {
    /// Every action, in the order of the table above.
    pub const ALL: [S3Action; 27] = [
        S3Action::ListBuckets,
        S3Action::CreateBucket,
        S3Action::DeleteBucket,
        S3Action::HeadBucket,
        S3Action::GetBucketLocation,
        S3Action::ListObjectsV2,
        S3Action::ListObjects,
        S3Action::ListObjectVersions,
        S3Action::ListMultipartUploads,
        S3Action::DeleteObjects,
        S3Action::GetBucketTagging,
        S3Action::PutBucketTagging,
        S3Action::DeleteBucketTagging,
        S3Action::GetObject,
        S3Action::HeadObject,
        S3Action::PutObject,
        S3Action::CopyObject,
        S3Action::DeleteObject,
        S3Action::CreateMultipartUpload,
        S3Action::UploadPart,
        S3Action::UploadPartCopy,
        S3Action::CompleteMultipartUpload,
        S3Action::AbortMultipartUpload,
        S3Action::ListParts,
        S3Action::GetObjectTagging,
        S3Action::PutObjectTagging,
        S3Action::DeleteObjectTagging,
    ];

    /// The API name, as in audit records (`GetObject`).
    pub fn name(self) -> &'static str {
        use S3Action::*;
        match self {
            ListBuckets => "ListBuckets",
            CreateBucket => "CreateBucket",
            DeleteBucket => "DeleteBucket",
            HeadBucket => "HeadBucket",
            GetBucketLocation => "GetBucketLocation",
            ListObjectsV2 => "ListObjectsV2",
            ListObjects => "ListObjects",
            ListObjectVersions => "ListObjectVersions",
            ListMultipartUploads => "ListMultipartUploads",
            DeleteObjects => "DeleteObjects",
            GetBucketTagging => "GetBucketTagging",
            PutBucketTagging => "PutBucketTagging",
            DeleteBucketTagging => "DeleteBucketTagging",
            GetObject => "GetObject",
            HeadObject => "HeadObject",
            PutObject => "PutObject",
            CopyObject => "CopyObject",
            DeleteObject => "DeleteObject",
            CreateMultipartUpload => "CreateMultipartUpload",
            UploadPart => "UploadPart",
            UploadPartCopy => "UploadPartCopy",
            CompleteMultipartUpload => "CompleteMultipartUpload",
            AbortMultipartUpload => "AbortMultipartUpload",
            ListParts => "ListParts",
            GetObjectTagging => "GetObjectTagging",
            PutObjectTagging => "PutObjectTagging",
            DeleteObjectTagging => "DeleteObjectTagging",
        }
    }

    /// The action an API name names.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.name() == name)
    }

    /// The HTTP method S3 takes it with.
    pub fn method(self) -> Method {
        use S3Action::*;
        match self {
            ListBuckets | GetBucketLocation | ListObjectsV2 | ListObjects | ListObjectVersions
            | ListMultipartUploads | GetBucketTagging | GetObject | ListParts | GetObjectTagging => {
                Method::GET
            }
            HeadBucket | HeadObject => Method::HEAD,
            CreateBucket | PutBucketTagging | PutObject | CopyObject | UploadPart | UploadPartCopy
            | PutObjectTagging => Method::PUT,
            DeleteObjects | CreateMultipartUpload | CompleteMultipartUpload => Method::POST,
            DeleteBucket | DeleteBucketTagging | DeleteObject | AbortMultipartUpload
            | DeleteObjectTagging => Method::DELETE,
        }
    }

    /// The access class it needs. A copy needs `write` here, on its destination; its source
    /// needs `read` besides, which the host checks from `x-amz-copy-source`.
    pub fn access(self) -> Access {
        use S3Action::*;
        match self {
            GetObject | HeadObject | ListParts | GetObjectTagging => Access::Read,
            PutObject
            | CopyObject
            | CreateMultipartUpload
            | UploadPart
            | UploadPartCopy
            | CompleteMultipartUpload
            | AbortMultipartUpload
            | PutObjectTagging
            | DeleteObjectTagging => Access::Write,
            DeleteObject | DeleteObjects => Access::Delete,
            ListBuckets | HeadBucket | GetBucketLocation | ListObjectsV2 | ListObjects
            | ListObjectVersions | ListMultipartUploads => Access::List,
            CreateBucket | DeleteBucket | GetBucketTagging | PutBucketTagging | DeleteBucketTagging => {
                Access::Admin
            }
        }
    }

    /// Whether only a rule on the whole bucket (no key prefix) may allow it: bucket
    /// configuration, and DeleteObjects, whose keys travel in the body where the host does not
    /// look.
    pub fn needs_whole_bucket(self) -> bool {
        self == S3Action::DeleteObjects || self.access() == Access::Admin
    }

    /// What a presigned URL may be made for: one object's get, head, put and delete.
    pub const PRESIGNABLE: [S3Action; 4] =
        [S3Action::GetObject, S3Action::HeadObject, S3Action::PutObject, S3Action::DeleteObject];

    /// The action a presigned URL for HTTP method `method` grants (`GET`, `HEAD`, `PUT`,
    /// `DELETE`, in any case, as the CLI and JSON actions accept them).
    pub fn presigned(method: &str) -> Option<Self> {
        Self::PRESIGNABLE.into_iter().find(|action| action.method().as_str().eq_ignore_ascii_case(method))
    }
}

impl std::fmt::Display for S3Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_in_the_table_once_and_its_name_round_trips() {
        let mut names: Vec<&str> = S3Action::ALL.iter().map(|a| a.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), S3Action::ALL.len());
        for action in S3Action::ALL {
            assert_eq!(S3Action::from_name(action.name()), Some(action));
        }
        assert_eq!(S3Action::from_name("getobject"), None);
    }

    #[test]
    fn access_classes_and_methods_follow_s3() {
        use S3Action::*;
        let table = [
            (GetObject, Access::Read, "GET", false),
            (HeadObject, Access::Read, "HEAD", false),
            (PutObject, Access::Write, "PUT", false),
            (CopyObject, Access::Write, "PUT", false),
            (UploadPart, Access::Write, "PUT", false),
            (CompleteMultipartUpload, Access::Write, "POST", false),
            (DeleteObject, Access::Delete, "DELETE", false),
            (DeleteObjects, Access::Delete, "POST", true),
            (ListObjectsV2, Access::List, "GET", false),
            (ListBuckets, Access::List, "GET", false),
            (CreateBucket, Access::Admin, "PUT", true),
            (DeleteBucketTagging, Access::Admin, "DELETE", true),
            (DeleteObjectTagging, Access::Write, "DELETE", false),
            (ListParts, Access::Read, "GET", false),
        ];
        for (action, access, method, whole) in table {
            let read = (action.access(), action.method(), action.needs_whole_bucket());
            assert_eq!(read, (access, Method::from_bytes(method.as_bytes()).unwrap(), whole), "{action}");
        }
    }

    #[test]
    fn presigning_covers_one_objects_four_methods() {
        for action in S3Action::PRESIGNABLE {
            assert_eq!(S3Action::presigned(action.method().as_str()), Some(action));
        }
        assert_eq!(S3Action::presigned("get"), Some(S3Action::GetObject));
        assert_eq!(S3Action::presigned("POST"), None);
        assert_eq!(S3Action::presigned("GETX"), None);
    }
}
