//! Bucket tagging: GetBucketTagging, PutBucketTagging, DeleteBucketTagging. Bucket-level
//! configuration, so the host's policy asks `admin` for all three.

use crate::bindings::s3_connector::s3::types::S3Error;
use crate::protocol::checked_names::Bucket;
use crate::protocol::object_headers;
use crate::protocol::s3_error::invalid;
use crate::protocol::xml;
use crate::transport::client::{Call, S3, S3Action};
use crate::transport::wire::Body;

/// S3's limit on tags per bucket.
pub const MAX_BUCKET_TAGS: usize = 50;

fn tagging_call(action: S3Action, bucket: Bucket<'_>) -> Call<'_> {
    let mut call = Call::on_bucket(action, bucket);
    call.query.push(("tagging", String::new()));
    call
}

/// Refuses more tags than S3 keeps on a bucket, or a key given twice.
pub fn check_tags(bucket: &str, tags: &[(String, String)]) -> Result<(), S3Error> {
    if tags.len() > MAX_BUCKET_TAGS {
        return Err(invalid(format!(
            "{} tags given for bucket {bucket}; S3 allows at most {MAX_BUCKET_TAGS} per bucket",
            tags.len()
        )));
    }
    if let Some((key, _)) =
        tags.iter().enumerate().find_map(|(i, (k, _))| tags[..i].iter().find(|(o, _)| o == k))
    {
        return Err(invalid(format!(
            "tag key {key:?} is given twice for bucket {bucket}; tag keys are unique"
        )));
    }
    Ok(())
}

/// GetBucketTagging; a bucket without tags (S3's `NoSuchTagSet`) has none.
pub fn get(s3: &S3, bucket: Bucket<'_>) -> Result<Vec<(String, String)>, S3Error> {
    match s3.send_for_xml(tagging_call(S3Action::GetBucketTagging, bucket), Body::Empty) {
        Ok(text) => xml::tagging(&text).map_err(|e| S3Error::Other(e.to_string())),
        Err(S3Error::Service(error)) if error.code == "NoSuchTagSet" => Ok(Vec::new()),
        Err(error) => Err(error),
    }
}

/// PutBucketTagging: replaces the bucket's tags.
pub fn put(s3: &S3, bucket: Bucket<'_>, tags: &[(String, String)]) -> Result<(), S3Error> {
    check_tags(bucket.name(), tags)?;
    let mut call = tagging_call(S3Action::PutBucketTagging, bucket);
    let body = xml::tagging_body(tags);
    // S3 requires an integrity check on PutBucketTagging.
    call.headers.push(object_headers::content_md5(body.as_bytes()));
    s3.send(call, Body::Bytes(body.as_bytes())).map(drop)
}

/// DeleteBucketTagging: removes every tag of the bucket.
pub fn delete(s3: &S3, bucket: Bucket<'_>) -> Result<(), S3Error> {
    s3.send(tagging_call(S3Action::DeleteBucketTagging, bucket), Body::Empty).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(n: usize) -> Vec<(String, String)> {
        (0..n).map(|i| (format!("k{i}"), "v".to_owned())).collect()
    }

    #[test]
    fn tag_sets_are_checked() {
        assert!(check_tags("b", &tags(0)).is_ok());
        assert!(check_tags("b", &tags(50)).is_ok());
        let error = check_tags("b", &tags(51)).unwrap_err();
        assert!(
            matches!(&error, S3Error::InvalidRequest(m) if m.contains("51 tags") && m.contains("at most 50"))
        );
        let twice = vec![("a".to_owned(), "1".to_owned()), ("a".to_owned(), "2".to_owned())];
        let error = check_tags("b", &twice).unwrap_err();
        assert!(
            matches!(&error, S3Error::InvalidRequest(m) if m.contains("\"a\" is given twice")),
            "{error:?}"
        );
    }
}
