//! The `--config FILE` format: connection, credentials and policy in one TOML file.
//!
//! ```toml
//! endpoint = "http://127.0.0.1:9000"
//! region = "us-east-1"
//! path_style = true
//!
//! [credentials]
//! access_key_id = "AKIA..."
//! secret_access_key = "..."
//!
//! [[allow]]
//! bucket = "photos"
//! prefix = "in/"
//! operations = ["read", "write", "list"]
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::credentials::{Secret, StaticCredentials};
use crate::policy::Rule;
use crate::policy::config::AllowTable;

/// The whole file. Every field is optional; flags override it.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `endpoint = URL`.
    pub endpoint: Option<String>,
    /// `region = NAME`.
    pub region: Option<String>,
    /// `path_style = true`.
    pub path_style: Option<bool>,
    credentials: Option<CredentialsTable>,
    #[serde(default)]
    allow: Vec<AllowTable>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsTable {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

impl ConfigFile {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("config file {}: {e}", path.display()))
    }

    /// Parses the TOML text. Errors never quote secret values: toml's messages quote the
    /// offending line, so only the message's first line is kept.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.message().to_owned())
    }

    /// The `[credentials]` table as a provider.
    pub fn credentials(&self) -> Option<StaticCredentials> {
        self.credentials.as_ref().map(|c| {
            StaticCredentials::new(
                c.access_key_id.clone(),
                Secret::new(c.secret_access_key.clone()),
                c.session_token.clone().map(Secret::new),
            )
        })
    }

    /// The `[[allow]]` rules.
    pub fn rules(&self) -> Result<Vec<Rule>, String> {
        self.allow.iter().map(|table| table.to_rule().map_err(|e| e.to_string())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_config_file_parses() {
        let file = ConfigFile::parse(
            r#"
            endpoint = "http://127.0.0.1:9000"
            region = "eu-west-1"
            path_style = true
            [credentials]
            access_key_id = "AKID"
            secret_access_key = "VERY-SECRET"
            [[allow]]
            bucket = "photos"
            prefix = "in/"
            operations = ["read", "list"]
            [[allow]]
            bucket = "*"
            operations = ["list"]
            "#,
        )
        .unwrap();
        assert_eq!(file.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(file.path_style, Some(true));
        let rules: Vec<String> = file.rules().unwrap().iter().map(ToString::to_string).collect();
        assert_eq!(rules, ["photos/in/=read,list", "*=list"]);
        assert!(file.credentials().is_some());
    }

    #[test]
    fn mistakes_are_named_without_quoting_secrets() {
        let unknown = ConfigFile::parse("endpoint = \"x\"\nregoin = \"eu\"\n").err().unwrap();
        assert!(unknown.contains("regoin"), "{unknown}");
        let bad_type =
            ConfigFile::parse("[credentials]\naccess_key_id = \"A\"\nsecret_access_key = 5\n").err().unwrap();
        assert!(bad_type.contains("string"), "{bad_type}");
        let leaked = ConfigFile::parse(
            "[credentials]\naccess_key_id = \"A\"\nsecret_access_key = \"VERY-SECRET\"\nx = 1\n",
        );
        assert!(!leaked.err().unwrap().contains("VERY-SECRET"));
        let bad_op = ConfigFile::parse("[[allow]]\nbucket = \"b\"\noperations = [\"rwx\"]\n")
            .unwrap()
            .rules()
            .unwrap_err();
        assert!(bad_op.contains("rwx"), "{bad_op}");
    }
}
