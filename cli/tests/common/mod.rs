//! Helpers shared by the host's integration tests.

#![allow(dead_code)]

pub mod cli_binary;
pub mod object_lock_proxy;
pub mod recording_server;

use std::sync::Arc;

use s3_connector_host::{Connection, Connector, ConnectorBuilder, Policy, Secret, StaticCredentials};
use s3_connector_local_store::LocalS3;

/// A path-style connector to `endpoint` with these keys; no flags means allow everything.
pub fn connector_at(endpoint: &str, access_key: &str, secret: &Secret, flags: &[&str]) -> Connector {
    builder_at(endpoint, access_key, secret, flags).build().unwrap()
}

/// The settings of [`connector_at`], for a test to change.
pub fn builder_at(endpoint: &str, access_key: &str, secret: &Secret, flags: &[&str]) -> ConnectorBuilder {
    let connection = Connection::resolve(Some(endpoint), Some("us-east-1"), true, |_| None).unwrap();
    let credentials = StaticCredentials::new(access_key, secret.clone(), None);
    let policy =
        if flags.is_empty() { Policy::allow_all() } else { Policy::from_allow_flags(flags).unwrap() };
    Connector::builder(connection, policy, Arc::new(credentials))
}

/// A connector to a local store, with its keys.
pub fn connector_for(s3: &LocalS3, flags: &[&str]) -> Connector {
    builder_for(s3, flags).build().unwrap()
}

/// The settings of [`connector_for`], for a test to change.
pub fn builder_for(s3: &LocalS3, flags: &[&str]) -> ConnectorBuilder {
    builder_at(&s3.endpoint(), s3.access_key_id(), s3.secret_access_key(), flags)
}
