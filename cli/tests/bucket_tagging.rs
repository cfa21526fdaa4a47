//! Bucket tagging on the wire (s3s-fs has no tagging): the requests, their XML bodies and
//! Content-MD5, the answers parsed, a bucket without tags, the limits, and the policy's `admin`.

use crate::common;

use common::recording_server::{Answer, RecordingServer};
use s3_connector_host::types::S3Error;
use s3_connector_host::{Error, Secret};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_tags_are_put_read_and_deleted() {
    let server = RecordingServer::start().await;
    let secret = Secret::new("tagging-secret");
    let c = common::connector_at(&server.endpoint, "AKBUCKETTAGS0000001", &secret, &[]);

    let tags = vec![("team".to_owned(), "a&b".to_owned()), ("env".to_owned(), "prod".to_owned())];
    c.put_bucket_tags("tagged", &tags).await.unwrap();
    server.answer(Answer {
        status: 200,
        headers: vec![],
        body: "<Tagging><TagSet><Tag><Key>team</Key><Value>a&amp;b</Value></Tag>\
               <Tag><Key>env</Key><Value>prod</Value></Tag></TagSet></Tagging>"
            .to_owned(),
    });
    assert_eq!(c.get_bucket_tags("tagged").await.unwrap(), tags);
    server.answer(Answer {
        status: 404,
        headers: vec![],
        body: "<Error><Code>NoSuchTagSet</Code><Message>The TagSet does not exist</Message></Error>"
            .to_owned(),
    });
    assert_eq!(c.get_bucket_tags("tagged").await.unwrap(), Vec::<(String, String)>::new());
    server.answer(Answer { status: 204, headers: vec![], body: String::new() });
    c.delete_bucket_tags("tagged").await.unwrap();

    let requests = server.requests();
    let summary: Vec<(&str, &str)> = requests.iter().map(|r| (r.method.as_str(), r.uri.as_str())).collect();
    assert_eq!(
        summary,
        [
            ("PUT", "/tagged?tagging"),
            ("GET", "/tagged?tagging"),
            ("GET", "/tagged?tagging"),
            ("DELETE", "/tagged?tagging")
        ]
    );
    let body = String::from_utf8(requests[0].body.clone()).unwrap();
    assert!(
        body.contains(
            "<Tag><Key>team</Key><Value>a&amp;b</Value></Tag><Tag><Key>env</Key><Value>prod</Value></Tag>"
        ),
        "{body}"
    );
    assert!(requests[0].header("content-md5").is_some());
    assert!(requests[0].signed_headers().contains(&"content-md5".to_owned()));

    let many: Vec<(String, String)> = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
    let error = c.put_bucket_tags("tagged", &many).await.unwrap_err();
    assert!(matches!(&error, Error::S3(S3Error::InvalidRequest(m)) if m.contains("at most 50")), "{error:?}");
    assert_eq!(server.requests().len(), 4, "refused before sending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_tagging_needs_admin() {
    let server = RecordingServer::start().await;
    let secret = Secret::new("tagging-secret");
    let c = common::connector_at(
        &server.endpoint,
        "AKBUCKETTAGS0000001",
        &secret,
        &["tagged=read,write,delete,list"],
    );
    let tags = [("team".to_owned(), "a".to_owned())];
    let denied = [
        c.put_bucket_tags("tagged", &tags).await.unwrap_err(),
        c.get_bucket_tags("tagged").await.unwrap_err(),
        c.delete_bucket_tags("tagged").await.unwrap_err(),
    ];
    for error in denied {
        assert!(matches!(error, Error::Denied(_)), "{error:?}");
    }
    assert!(server.requests().is_empty());
    let admin = common::connector_at(&server.endpoint, "AKBUCKETTAGS0000001", &secret, &["tagged=admin"]);
    admin.put_bucket_tags("tagged", &tags).await.unwrap();
    assert_eq!(server.requests().len(), 1);
}
