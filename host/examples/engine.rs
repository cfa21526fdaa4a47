//! A minimal workflow engine: one process, several tenants, each with its own policy and
//! credentials, running JSON actions concurrently against an embedded local S3 store.
//!
//! Run it with `cargo run --example engine`. The engine, the compiled plugin and its
//! `InstancePre` are shared by every tenant's `Connector`; every action runs in a fresh
//! instance, so one tenant's call can never see another's state.

use std::sync::Arc;

use s3_connector_host::{Connection, Connector, FsDocumentStore, Policy, Secret, StaticCredentials};
use s3_connector_local_store::LocalS3;

/// One tenant of the engine.
struct Tenant {
    name: &'static str,
    connector: Connector,
}

fn tenant(
    name: &'static str,
    connection: &Connection,
    rules: &[&str],
    key: (&str, &Secret),
    documents: &Arc<FsDocumentStore>,
) -> Result<Tenant, Box<dyn std::error::Error>> {
    let credentials = Arc::new(StaticCredentials::new(key.0, key.1.clone(), None));
    let connector = Connector::builder(connection.clone(), Policy::from_allow_flags(rules)?, credentials)
        .documents(documents.clone())
        .max_inline_bytes(64 * 1024)
        .build()?;
    Ok(Tenant { name, connector })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A local store stands in for S3, with one key pair per tenant.
    let dir = tempfile::tempdir()?;
    let (acme_secret, globex_secret) = (Secret::new("acme-secret-key"), Secret::new("globex-secret-key"));
    let keys = [("AKACME", acme_secret.clone()), ("AKGLOBEX", globex_secret.clone())];
    let store = LocalS3::start_with_keys(dir.path(), &keys).await?;
    let connection = Connection::resolve(Some(&store.endpoint()), Some("us-east-1"), true, |_| None)?;
    let docs = tempfile::tempdir()?;
    std::fs::write(docs.path().join("contract.txt"), "signed by both parties")?;
    let documents = Arc::new(FsDocumentStore::new(docs.path())?);

    let acme = tenant(
        "acme",
        &connection,
        &["acme=admin,read,write,list,delete"],
        ("AKACME", &acme_secret),
        &documents,
    )?;
    let globex = tenant(
        "globex",
        &connection,
        &["globex/inbox/=read,write,list"],
        ("AKGLOBEX", &globex_secret),
        &documents,
    )?;
    let operator = tenant("operator", &connection, &["*=admin"], ("AKACME", &acme_secret), &documents)?;

    for bucket in ["acme", "globex"] {
        let answer =
            operator.connector.invoke(&format!(r#"{{"action":"createBucket","bucket":"{bucket}"}}"#)).await;
        println!("operator createBucket {bucket}: {}", if answer.is_ok() { "ok" } else { "failed" });
    }

    // Each tenant's work, all of it at once.
    let work: Vec<(&Tenant, &str)> = vec![
        (
            &acme,
            r#"{"action":"uploadDocument","bucket":"acme","document":{"storeId":"fs","documentId":"contract.txt"}}"#,
        ),
        (
            &acme,
            r#"{"action":"uploadDocument","bucket":"acme","key":"orders/1.json","content":{"json":{"order":1}}}"#,
        ),
        (
            &globex,
            r#"{"action":"uploadDocument","bucket":"globex","key":"inbox/note.txt","content":{"text":"hello"}}"#,
        ),
        // Outside globex's prefix, and another tenant's bucket: refused by the host.
        (
            &globex,
            r#"{"action":"uploadDocument","bucket":"globex","key":"outbox/x.txt","content":{"text":"no"}}"#,
        ),
        (&globex, r#"{"action":"deleteDocument","bucket":"acme","key":"contract.txt"}"#),
        // Malformed input: an error naming the field, not a crash.
        (&acme, r#"{"action":"listObjects","bucket":"acme","maxKeys":"ten"}"#),
    ];
    let mut running = tokio::task::JoinSet::new();
    for (index, (tenant, request)) in work.into_iter().enumerate() {
        let (name, connector) = (tenant.name, tenant.connector.clone());
        running.spawn(async move { (index, name, connector.invoke(request).await) });
    }
    let mut outcomes = running.join_all().await;
    outcomes.sort_by_key(|(index, _, _)| *index);
    for (_, name, outcome) in outcomes {
        match outcome {
            Ok(answer) => println!("{name}: ok  {answer}"),
            Err(failure) => println!("{name}: {}  {}", failure.code(), failure.json()["error"]["message"]),
        }
    }

    let listing = acme.connector.invoke(r#"{"action":"listObjects","bucket":"acme"}"#).await;
    let keys: Vec<String> = listing
        .map(|answer| {
            answer["objects"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|o| o["key"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    println!("acme now holds: {keys:?}");
    Ok(())
}
