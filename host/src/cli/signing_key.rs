//! `s3-connector signing-key`: today's SigV4 signing key of the configured credentials, for an
//! operator who runs the edge component under a stock host (`wasmtime serve -S config-var`, a
//! Spin or wasmCloud manifest). Given the key instead of the secret access key, such a host
//! holds a credential that expires with the day (SECURITY.md, "Derived signing keys").

use std::time::SystemTime;

use s3_connector_rules::{edge_config, sigv4};
use serde_json::json;

use crate::connector::Connector;
use crate::error::Error;

/// Prints the `wasi:config` values of the edge world for today: the access key id, the signing
/// key and its date, the region and the session token if any, one `key=value` a line (or one
/// JSON object).
pub async fn print(connector: &Connector, signed_at: SystemTime, json: bool) -> Result<(), Error> {
    let shared = &connector.settings().shared;
    let credentials = shared.credentials.credentials().await?;
    let date = sigv4::signing_date(signed_at).map_err(|e| Error::local(e.to_string()))?;
    let region = &shared.connection.region;
    let identity = shared.signing_keys.identity(&credentials, &date, region);
    let mut values = vec![
        (edge_config::ACCESS_KEY_ID, identity.access_key_id.clone()),
        (edge_config::SIGNING_KEY, identity.key.to_hex()),
        (edge_config::SIGNING_DATE, identity.date.clone()),
        (edge_config::REGION, region.clone()),
    ];
    if let Some(token) = identity.session_token {
        values.push((edge_config::SESSION_TOKEN, token));
    }
    if json {
        let object: serde_json::Map<String, serde_json::Value> =
            values.into_iter().map(|(key, value)| (key.to_owned(), json!(value))).collect();
        out!("{}", serde_json::Value::Object(object));
    } else {
        for (key, value) in values {
            out!("{key}={value}");
        }
    }
    Ok(())
}
