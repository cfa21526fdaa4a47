//! What a JSON action may choose for itself. Camunda's requests carry the process model's
//! `configuration` (`region`, `endpoint`) and `authentication` (`credentials` with keys, or
//! `defaultCredentialsChain`); the host, not the request, decides whether they apply. By default
//! a request may only name the region and endpoint the host already uses and may carry no
//! secrets; with the host's explicit consent ([`crate::ConnectorBuilder::request_credentials`],
//! `--allow-request-credentials`) keys from the request sign that one call, still under the
//! policy and scoped like any credentials.
//!
//! One reading of the request and one decision on plain data, table-tested.

use serde_json::Value;

use crate::credentials::{Secret, StaticCredentials};
use crate::settings::{Connection, Endpoint};

/// What a request asks for, as read from it.
#[derive(Debug, Default)]
pub struct RequestSettings {
    /// `configuration.region`.
    pub region: Option<String>,
    /// `configuration.endpoint`.
    pub endpoint: Option<String>,
    /// `authentication`.
    pub authentication: Authentication,
}

/// A request's `authentication`.
#[derive(Debug, Default)]
pub enum Authentication {
    /// None given, or `defaultCredentialsChain`: the host's own credentials.
    #[default]
    Host,
    /// `credentials`: keys from the request.
    Keys {
        /// `accessKey`.
        access_key_id: String,
        /// `secretKey`.
        secret_access_key: Secret,
    },
}

/// A request setting the host does not take, naming the field and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field \"{field}\": {rule}")]
pub struct Refused {
    /// The field, as a path (`configuration.region`).
    pub field: &'static str,
    /// Why, and what to do.
    pub rule: String,
}

impl RequestSettings {
    /// Reads `configuration` and `authentication` from a request; malformed ones are refused.
    pub fn read(request: &Value) -> Result<Self, Refused> {
        let text = |value: &Value, field: &'static str| -> Result<Option<String>, Refused> {
            match value {
                Value::Null => Ok(None),
                Value::String(text) => Ok(Some(text.clone())),
                _ => Err(Refused { field, rule: "must be a string".to_owned() }),
            }
        };
        let configuration = &request["configuration"];
        let region = text(&configuration["region"], "configuration.region")?;
        let endpoint = text(&configuration["endpoint"], "configuration.endpoint")?;
        let authentication = &request["authentication"];
        let authentication = match text(&authentication["type"], "authentication.type")?.as_deref() {
            None | Some("defaultCredentialsChain") => Authentication::Host,
            Some("credentials") => {
                let key = |field: &'static str, name: &str| {
                    text(&authentication[name], field)?.filter(|v| !v.is_empty()).ok_or_else(|| Refused {
                        field,
                        rule: "is required with authentication.type \"credentials\"".to_owned(),
                    })
                };
                Authentication::Keys {
                    access_key_id: key("authentication.accessKey", "accessKey")?,
                    secret_access_key: Secret::new(key("authentication.secretKey", "secretKey")?),
                }
            }
            Some(other) => {
                return Err(Refused {
                    field: "authentication.type",
                    rule: format!("{other:?} is not one of \"credentials\", \"defaultCredentialsChain\""),
                });
            }
        };
        Ok(Self { region, endpoint, authentication })
    }

    /// The host's decision: the credentials this call uses instead of the host's (`None`: the
    /// host's own), or the first setting it does not take.
    pub fn decide(
        self,
        host: &Connection,
        allow_request_credentials: bool,
    ) -> Result<Option<StaticCredentials>, Refused> {
        if let Some(region) = self.region.filter(|region| *region != host.region) {
            return Err(Refused {
                field: "configuration.region",
                rule: format!(
                    "{region:?} is not this host's region {:?}; a request may only name the host's own (set \
                     the region on the host: --region)",
                    host.region
                ),
            });
        }
        if let Some(endpoint) = self.endpoint {
            let same = Endpoint::parse(&endpoint).is_ok_and(|parsed| parsed == host.endpoint);
            if !same {
                return Err(Refused {
                    field: "configuration.endpoint",
                    rule: format!(
                        "{:?} is not this host's endpoint {}; a request may only name the host's own (set it \
                         on the host: --endpoint)",
                        crate::secrets::redact::url(&endpoint),
                        host.endpoint.url()
                    ),
                });
            }
        }
        match self.authentication {
            Authentication::Host => Ok(None),
            Authentication::Keys { .. } if !allow_request_credentials => Err(Refused {
                field: "authentication.type",
                rule: "\"credentials\": this host does not take keys from requests; send \
                       \"defaultCredentialsChain\" to use the host's, or start the host with \
                       --allow-request-credentials (ConnectorBuilder::request_credentials)"
                    .to_owned(),
            }),
            Authentication::Keys { access_key_id, secret_access_key } => {
                Ok(Some(StaticCredentials::from_request(access_key_id, secret_access_key)))
            }
        }
    }
}

/// `request` without its `authentication`, so that no key reaches the plugin's text: the keys
/// it is allowed reach it through the credentials import, scoped and scrubbed.
pub fn without_authentication(request: &Value) -> Value {
    let mut stripped = request.clone();
    if let Some(object) = stripped.as_object_mut() {
        object.remove("authentication");
    }
    stripped
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::credentials::CredentialsProvider;

    fn host() -> Connection {
        Connection::resolve(Some("http://127.0.0.1:9000"), Some("eu-central-1"), true, |_| None).unwrap()
    }

    #[test]
    fn requests_may_name_only_what_the_host_uses() {
        let table: &[(Value, bool, Result<Option<&str>, &str>)] = &[
            (json!({}), false, Ok(None)),
            (json!({"configuration": {"region": "eu-central-1"}}), false, Ok(None)),
            (json!({"configuration": {"endpoint": "http://127.0.0.1:9000/"}}), false, Ok(None)),
            (json!({"authentication": {"type": "defaultCredentialsChain"}}), false, Ok(None)),
            (json!({"configuration": {"region": "us-east-1"}}), true, Err("configuration.region")),
            (
                json!({"configuration": {"endpoint": "http://10.0.0.1:9000"}}),
                true,
                Err("configuration.endpoint"),
            ),
            (json!({"configuration": {"region": 3}}), true, Err("configuration.region")),
            (
                json!({"authentication": {"type": "credentials", "accessKey": "AK", "secretKey": "SK"}}),
                false,
                Err("authentication.type"),
            ),
            (
                json!({"authentication": {"type": "credentials", "accessKey": "AK", "secretKey": "SK"}}),
                true,
                Ok(Some("AK")),
            ),
            (
                json!({"authentication": {"type": "credentials", "accessKey": "AK"}}),
                true,
                Err("authentication.secretKey"),
            ),
            (json!({"authentication": {"type": "iam"}}), true, Err("authentication.type")),
        ];
        for (request, allow, expected) in table {
            let decided = RequestSettings::read(request).and_then(|s| s.decide(&host(), *allow));
            match (decided, expected) {
                (Ok(None), Ok(None)) => {}
                (Ok(Some(credentials)), Ok(Some(_))) => {
                    assert_eq!(credentials.name(), "request", "{request}")
                }
                (Err(refused), Err(field)) => {
                    assert_eq!(refused.field, *field, "{request}: {refused}");
                    assert!(
                        !refused.to_string().contains("SK"),
                        "{request}: the secret is quoted: {refused}"
                    );
                }
                (got, _) => panic!("{request} (allowed: {allow}): {got:?}"),
            }
        }
    }

    #[test]
    fn the_plugin_never_sees_the_authentication() {
        let request = json!({"actionDiscriminator": "deleteObject", "action": {"bucket": "b", "key": "k"},
            "authentication": {"type": "credentials", "accessKey": "AK", "secretKey": "SK"}});
        let stripped = without_authentication(&request);
        assert!(!stripped.to_string().contains("SK"));
        assert_eq!(stripped["action"]["key"], "k");
    }
}
