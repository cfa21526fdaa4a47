//! `s3-connector signing-key`: today's SigV4 signing key of the configured credentials, for an
//! operator who runs the edge component under a stock host (`wasmtime serve -S config-var`, a
//! Spin or wasmCloud manifest). Given the key instead of the secret access key, such a host
//! holds a credential that expires with the day (SECURITY.md, "Derived signing keys").

use std::time::SystemTime;

use serde_json::json;

use s3_connector_host::connector::Connector;
use s3_connector_host::error::Error;

/// Prints the `wasi:config` values of the edge world for today: the access key id, the signing
/// key and its date, the region and the session token if any, one `key=value` a line (or one
/// JSON object).
pub async fn print(connector: &Connector, signed_at: SystemTime, json: bool) -> Result<(), Error> {
    let values = connector.edge_credentials(signed_at).await?.config_values();
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
