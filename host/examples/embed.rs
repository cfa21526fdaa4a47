//! Embedding the connector in a Rust program: one connector per tenant, each with its own
//! policy and tenant name, running calls against an embedded local S3 store, with every request
//! decision handed to an audit callback.
//!
//! Run it with `cargo run --example embed`.

use std::sync::Arc;

use s3_connector_host::ObjectRef;
use s3_connector_host::audit::AuditRecord;
use s3_connector_host::types::PutOptions;
use s3_connector_host::{Connection, Connector, Error, Policy, Secret, StaticCredentials};
use s3_connector_local_store::LocalS3;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A local store stands in for S3; point `Connection` at any endpoint instead.
    let dir = tempfile::tempdir()?;
    let store = LocalS3::start(dir.path(), "AKEXAMPLE", Secret::new("example-secret")).await?;
    let connection = Connection::resolve(Some(&store.endpoint()), Some("us-east-1"), true, |_| None)?;
    let credentials = Arc::new(StaticCredentials::new("AKEXAMPLE", Secret::new("example-secret"), None));

    // Every decision the host takes, as one JSON line; an embedder would ship these to its log.
    let audit = Arc::new(|record: &AuditRecord| println!("audit: {}", record.to_json_line()));

    // The operator may create buckets; the tenant may only write under its own prefix.
    let operator = Connector::builder(
        connection.clone(),
        Policy::from_allow_flags(&["shared=admin,list"])?,
        credentials.clone(),
    )
    .tenant("operator")
    .audit(audit.clone())
    .build()?;
    let tenant = Connector::builder(
        connection,
        Policy::from_allow_flags(&["shared/tenant-a/=read,write,list"])?,
        credentials,
    )
    .tenant("tenant-a")
    .audit(audit)
    .build()?;

    operator.create_bucket("shared").await?;
    let put = tenant
        .put_object_bytes(&ObjectRef::new("shared", "tenant-a/hello.txt"), b"hello", PutOptions::default())
        .await?;
    println!("tenant-a wrote its object, etag {}", put.etag.unwrap_or_default());

    // Outside its prefix, the host refuses before anything reaches S3.
    match tenant
        .put_object_bytes(&ObjectRef::new("shared", "tenant-b/hello.txt"), b"hi", PutOptions::default())
        .await
    {
        Err(Error::Denied(denial)) => println!("tenant-a refused as expected: {denial}"),
        other => println!("unexpected: {other:?}"),
    }
    let info = tenant.head_object(&ObjectRef::new("shared", "tenant-a/hello.txt")).await?;
    println!("tenant-a/hello.txt is {} bytes", info.size);
    Ok(())
}
