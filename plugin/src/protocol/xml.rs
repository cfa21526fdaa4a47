//! S3's XML bodies: parsed with quick-xml and serde into plain records, written by hand where
//! they are small.

use serde::Deserialize;

/// A body that is not the XML the operation expects.
#[derive(Debug, thiserror::Error)]
#[error("S3 answered {what} with XML that could not be read: {source}")]
pub struct XmlError {
    what: &'static str,
    source: quick_xml::DeError,
}

fn parse<'de, T: Deserialize<'de>>(what: &'static str, body: &'de str) -> Result<T, XmlError> {
    quick_xml::de::from_str(body).map_err(|source| XmlError { what, source })
}

/// `<Error>`: the body of every S3 error response.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct ErrorBody {
    /// The S3 error code.
    pub code: String,
    /// The message.
    pub message: String,
    /// The request id.
    pub request_id: Option<String>,
}

/// Parses an error body; `None` when the body is empty or not S3 XML.
pub fn error_body(body: &str) -> Option<ErrorBody> {
    parse::<ErrorBody>("an error", body).ok().filter(|e| !e.code.is_empty())
}

/// `<ListAllMyBucketsResult>`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListBuckets {
    /// `<Buckets>`.
    pub buckets: BucketList,
}

/// `<Buckets>`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct BucketList {
    /// Each `<Bucket>`.
    #[serde(rename = "Bucket")]
    pub bucket: Vec<Bucket>,
}

/// `<Bucket>`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Bucket {
    /// The name.
    pub name: String,
    /// ISO 8601 creation time.
    pub creation_date: Option<String>,
}

/// Parses ListBuckets.
pub fn list_buckets(body: &str) -> Result<ListBuckets, XmlError> {
    parse("ListBuckets", body)
}

/// `<ListBucketResult>` of ListObjectsV2.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListObjectsV2 {
    /// Each `<Contents>`.
    pub contents: Vec<Contents>,
    /// Each `<CommonPrefixes>`.
    pub common_prefixes: Vec<CommonPrefix>,
    /// `<IsTruncated>`.
    pub is_truncated: bool,
    /// `<NextContinuationToken>`.
    pub next_continuation_token: Option<String>,
}

/// `<Contents>`: one object.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Contents {
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// The ETag.
    #[serde(rename = "ETag")]
    pub etag: Option<String>,
    /// ISO 8601 time.
    pub last_modified: Option<String>,
    /// The storage class.
    pub storage_class: Option<String>,
}

/// `<CommonPrefixes>`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct CommonPrefix {
    /// The prefix.
    pub prefix: String,
}

/// Parses ListObjectsV2.
pub fn list_objects_v2(body: &str) -> Result<ListObjectsV2, XmlError> {
    parse("ListObjectsV2", body)
}

/// `<InitiateMultipartUploadResult>`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct InitiateMultipartUpload {
    /// The upload id.
    pub upload_id: String,
}

/// Parses CreateMultipartUpload.
pub fn initiate_multipart_upload(body: &str) -> Result<InitiateMultipartUpload, XmlError> {
    parse("CreateMultipartUpload", body)
}

/// `<CompleteMultipartUploadResult>`, or an `<Error>` in a 200 response.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct CompleteMultipartUpload {
    /// The ETag of the assembled object.
    #[serde(rename = "ETag")]
    pub etag: Option<String>,
}

/// Parses CompleteMultipartUpload.
pub fn complete_multipart_upload(body: &str) -> Result<CompleteMultipartUpload, XmlError> {
    parse("CompleteMultipartUpload", body)
}

/// `<CopyObjectResult>`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct CopyObject {
    /// The copy's ETag.
    #[serde(rename = "ETag")]
    pub etag: Option<String>,
    /// When the copy was made.
    pub last_modified: Option<String>,
}

/// Parses CopyObject.
pub fn copy_object(body: &str) -> Result<CopyObject, XmlError> {
    parse("CopyObject", body)
}

/// `<DeleteResult>` of DeleteObjects.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeleteResult {
    /// Each `<Deleted>`.
    pub deleted: Vec<DeletedKey>,
    /// Each `<Error>`.
    pub error: Vec<DeleteError>,
}

/// `<Deleted>`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeletedKey {
    /// The key.
    pub key: String,
}

/// `<Error>` inside `<DeleteResult>`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeleteError {
    /// The key.
    pub key: String,
    /// The S3 error code.
    pub code: String,
    /// The message.
    pub message: String,
}

/// Parses DeleteObjects.
pub fn delete_result(body: &str) -> Result<DeleteResult, XmlError> {
    parse("DeleteObjects", body)
}

/// The body of DeleteObjects.
pub fn delete_objects_body<'a>(keys: impl IntoIterator<Item = &'a str>) -> String {
    let mut xml = String::from("<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for key in keys {
        xml.push_str(&format!("<Object><Key>{}</Key></Object>", escape(key)));
    }
    xml.push_str("</Delete>");
    xml
}

/// `<Tagging>` of GetObjectTagging.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Tagging {
    /// `<TagSet>`.
    pub tag_set: TagSet,
}

/// `<TagSet>`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct TagSet {
    /// Each `<Tag>`.
    pub tag: Vec<Tag>,
}

/// `<Tag>`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Tag {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// Parses GetObjectTagging.
pub fn tagging(body: &str) -> Result<Vec<(String, String)>, XmlError> {
    let parsed: Tagging = parse("GetObjectTagging", body)?;
    Ok(parsed.tag_set.tag.into_iter().map(|t| (t.key, t.value)).collect())
}

/// The body of PutObjectTagging.
pub fn tagging_body(tags: &[(String, String)]) -> String {
    let mut xml = String::from("<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>");
    for (key, value) in tags {
        xml.push_str(&format!("<Tag><Key>{}</Key><Value>{}</Value></Tag>", escape(key), escape(value)));
    }
    xml.push_str("</TagSet></Tagging>");
    xml
}

/// `<LocationConstraint>`: the text is the region, empty for us-east-1.
#[derive(Debug, Default, Deserialize, PartialEq)]
pub struct LocationConstraint {
    /// The region.
    #[serde(rename = "$text", default)]
    pub region: String,
}

/// Parses GetBucketLocation.
pub fn bucket_location(body: &str) -> Result<String, XmlError> {
    let parsed: LocationConstraint = parse("GetBucketLocation", body)?;
    Ok(parsed.region)
}

/// `<CopyPartResult>` of UploadPartCopy.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct CopyPart {
    /// The part's ETag.
    #[serde(rename = "ETag")]
    pub etag: String,
}

/// Parses UploadPartCopy.
pub fn copy_part(body: &str) -> Result<CopyPart, XmlError> {
    parse("UploadPartCopy", body)
}

/// `<ListMultipartUploadsResult>`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListMultipartUploads {
    /// Each `<Upload>`.
    pub upload: Vec<Upload>,
    /// More pages follow.
    pub is_truncated: bool,
    /// The key marker of the next page.
    pub next_key_marker: Option<String>,
    /// The upload id marker of the next page.
    pub next_upload_id_marker: Option<String>,
}

/// `<Upload>`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Upload {
    /// The key.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
    /// When it started.
    pub initiated: Option<String>,
}

/// Parses ListMultipartUploads.
pub fn list_multipart_uploads(body: &str) -> Result<ListMultipartUploads, XmlError> {
    parse("ListMultipartUploads", body)
}

/// `<ListPartsResult>`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListParts {
    /// Each `<Part>`.
    pub part: Vec<Part>,
    /// More pages follow.
    pub is_truncated: bool,
    /// The marker of the next page.
    pub next_part_number_marker: Option<u32>,
}

/// `<Part>`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Part {
    /// The part number.
    pub part_number: u32,
    /// The ETag.
    #[serde(rename = "ETag")]
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
}

/// Parses ListParts.
pub fn list_parts(body: &str) -> Result<ListParts, XmlError> {
    parse("ListParts", body)
}

/// `<ListVersionsResult>`. Versions and delete markers come interleaved in key order; serde
/// reads them as one sequence of an enum so that the order is kept.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListVersions {
    /// Each `<Version>` and `<DeleteMarker>`, in order.
    #[serde(rename = "$value")]
    pub entries: Vec<VersionEntry>,
}

/// One child of `<ListVersionsResult>`.
#[derive(Debug, Deserialize, PartialEq)]
pub enum VersionEntry {
    /// `<Version>`.
    Version(VersionItem),
    /// `<DeleteMarker>`.
    DeleteMarker(VersionItem),
    /// `<IsTruncated>`.
    IsTruncated(bool),
    /// `<NextKeyMarker>`.
    NextKeyMarker(String),
    /// `<NextVersionIdMarker>`.
    NextVersionIdMarker(String),
    /// Anything else (`Name`, `Prefix`, `MaxKeys`, ...).
    #[serde(other)]
    Other,
}

/// The fields of a `<Version>` or `<DeleteMarker>`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct VersionItem {
    /// The key.
    pub key: String,
    /// The version id.
    pub version_id: String,
    /// Whether it is current.
    pub is_latest: bool,
    /// Size in bytes.
    pub size: u64,
    /// The ETag.
    #[serde(rename = "ETag")]
    pub etag: Option<String>,
    /// ISO 8601 time.
    pub last_modified: Option<String>,
}

/// Parses ListObjectVersions.
pub fn list_versions(body: &str) -> Result<ListVersions, XmlError> {
    parse("ListObjectVersions", body)
}

/// Escapes text for an XML element.
fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// The body of CompleteMultipartUpload: the parts in order with their ETags.
///
/// A part may carry its checksum as `(element, value)`, for example `("ChecksumCRC32", "...")`.
pub fn complete_multipart_upload_body(parts: &[(u32, String, Option<(String, String)>)]) -> String {
    let mut xml = String::from("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (number, etag, checksum) in parts {
        xml.push_str(&format!("<Part><PartNumber>{number}</PartNumber><ETag>{}</ETag>", escape(etag)));
        if let Some((element, value)) = checksum {
            xml.push_str(&format!("<{element}>{}</{element}>", escape(value)));
        }
        xml.push_str("</Part>");
    }
    xml.push_str("</CompleteMultipartUpload>");
    xml
}

/// The body of CreateBucket outside us-east-1.
pub fn create_bucket_body(region: &str) -> String {
    format!(
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
         <LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
        escape(region)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_objects_v2_with_prefixes_and_escapes() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><Prefix>dir/</Prefix><KeyCount>3</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>dir/a &amp; b.txt</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>
    <ETag>"abc"</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>dir/ü</Key><Size>0</Size></Contents>
  <CommonPrefixes><Prefix>dir/sub/</Prefix></CommonPrefixes>
  <NextContinuationToken>tok+/=</NextContinuationToken>
</ListBucketResult>"#;
        let parsed = list_objects_v2(body).unwrap();
        assert_eq!(parsed.contents.len(), 2);
        assert_eq!(parsed.contents[0].key, "dir/a & b.txt");
        assert_eq!(parsed.contents[0].etag.as_deref(), Some("\"abc\""));
        assert_eq!(parsed.contents[0].size, 12);
        assert_eq!(parsed.contents[1].key, "dir/ü");
        assert_eq!(parsed.common_prefixes, vec![CommonPrefix { prefix: "dir/sub/".into() }]);
        assert!(parsed.is_truncated);
        assert_eq!(parsed.next_continuation_token.as_deref(), Some("tok+/="));
    }

    #[test]
    fn empty_listings_parse() {
        let parsed =
            list_objects_v2("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>").unwrap();
        assert_eq!(parsed, ListObjectsV2::default());
        let buckets =
            list_buckets("<ListAllMyBucketsResult><Buckets></Buckets></ListAllMyBucketsResult>").unwrap();
        assert!(buckets.buckets.bucket.is_empty());
    }

    #[test]
    fn list_buckets_parses() {
        let body = "<ListAllMyBucketsResult><Owner><ID>x</ID></Owner><Buckets>\
            <Bucket><Name>one</Name><CreationDate>2024-01-01T00:00:00Z</CreationDate></Bucket>\
            <Bucket><Name>two</Name></Bucket></Buckets></ListAllMyBucketsResult>";
        let names: Vec<_> = list_buckets(body).unwrap().buckets.bucket.into_iter().map(|b| b.name).collect();
        assert_eq!(names, ["one", "two"]);
    }

    #[test]
    fn error_bodies_parse_or_are_none() {
        let body = "<Error><Code>NoSuchKey</Code><Message>The key does not exist</Message>\
                    <RequestId>R1</RequestId></Error>";
        let parsed = error_body(body).unwrap();
        assert_eq!((parsed.code.as_str(), parsed.request_id.as_deref()), ("NoSuchKey", Some("R1")));
        assert_eq!(error_body(""), None);
        assert_eq!(error_body("<html>bad gateway</html>"), None);
    }

    #[test]
    fn request_bodies_escape_their_text() {
        let body = complete_multipart_upload_body(&[
            (1, "\"a&b\"".into(), None),
            (2, "\"c\"".into(), Some(("ChecksumCRC32".into(), "y/Q5Jg==".into()))),
        ]);
        assert!(
            body.contains("<Part><PartNumber>1</PartNumber><ETag>&quot;a&amp;b&quot;</ETag></Part>"),
            "{body}"
        );
        assert!(
            body.contains("<Part><PartNumber>2</PartNumber><ETag>&quot;c&quot;</ETag><ChecksumCRC32>y/Q5Jg==</ChecksumCRC32></Part>"),
            "{body}"
        );
        assert!(
            create_bucket_body("eu-west-1").contains("<LocationConstraint>eu-west-1</LocationConstraint>")
        );
        assert_eq!(
            initiate_multipart_upload(
                "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>"
            )
            .unwrap()
            .upload_id,
            "u1"
        );
    }
}
