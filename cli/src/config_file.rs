//! The `--config FILE` format: connection, credentials and policy in one TOML file.
//!
//! ```toml
//! endpoint = "http://127.0.0.1:9000"
//! region = "us-east-1"
//! path_style = true
//! ca_bundle = "/etc/pki/company-ca.pem"   # optional: a private CA to trust besides the system's
//! proxy = "http://proxy.corp.example:3128" # optional: beats HTTPS_PROXY / HTTP_PROXY
//! no_proxy = [".corp.example", "10.0.0.0/8"] # optional: replaces NO_PROXY
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
//!
//! Instead of `[credentials]`, IAM Roles Anywhere with a certificate:
//!
//! ```toml
//! [roles_anywhere]
//! certificate = "/etc/pki/workload.crt"
//! private_key = "/etc/pki/workload.key"
//! chain = "/etc/pki/intermediates.pem"        # optional
//! trust_anchor_arn = "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/ID"
//! profile_arn = "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/ID"
//! role_arn = "arn:aws:iam::123456789012:role/uploader"
//! session_name = "nightly"                     # optional
//! duration_seconds = 3600                      # optional
//! endpoint = "https://rolesanywhere.eu-west-1.amazonaws.com"  # optional
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use s3_connector_host::credentials::{
    CredentialsError, RoleSessionSettings, RolesAnywhereProvider, Secret, StaticCredentials,
};
use s3_connector_host::network::proxy::FileProxy;
use s3_connector_host::policy::AllowTable;
use s3_connector_host::policy::Rule;

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
    /// `ca_bundle = FILE`: PEM CA certificates to trust besides the system's.
    pub ca_bundle: Option<PathBuf>,
    /// `proxy = URL`: the proxy for both schemes, between `--proxy` and the environment.
    proxy: Option<String>,
    /// `no_proxy = [ENTRY, ...]`: hosts, domains, IP addresses and CIDR ranges reached directly.
    no_proxy: Option<Vec<String>>,
    credentials: Option<CredentialsTable>,
    roles_anywhere: Option<RolesAnywhereTable>,
    /// `no_sign_request = true`: requests go unsigned, as `--no-sign-request`.
    no_sign_request: Option<bool>,
    /// `request_payer = "requester"`, as `--request-payer requester`.
    request_payer: Option<String>,
    /// `None` when the file has no `allow` key; `Some(vec![])` for `allow = []`, which allows
    /// nothing (an empty list must not fail open).
    allow: Option<Vec<AllowTable>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RolesAnywhereTable {
    certificate: PathBuf,
    private_key: PathBuf,
    chain: Option<PathBuf>,
    trust_anchor_arn: String,
    profile_arn: String,
    role_arn: String,
    session_name: Option<String>,
    duration_seconds: Option<u64>,
    endpoint: Option<String>,
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

    /// Whether `no_sign_request = true`: requests go unsigned.
    pub fn no_sign_request(&self) -> bool {
        self.no_sign_request.unwrap_or(false)
    }

    /// Whether `request_payer` says the caller pays (`"requester"`, the only value S3 takes).
    pub fn request_payer(&self) -> Result<bool, String> {
        match self.request_payer.as_deref() {
            None => Ok(false),
            Some("requester") => Ok(true),
            Some(other) => Err(format!(
                "request_payer = {other:?} in --config: the only payer S3 takes is \"requester\""
            )),
        }
    }

    /// The proxy settings (`proxy`, `no_proxy`).
    pub fn proxy(&self) -> FileProxy {
        FileProxy { proxy: self.proxy.clone(), no_proxy: self.no_proxy.clone() }
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

    /// The `[roles_anywhere]` table as a provider (its files are read and checked now).
    pub fn roles_anywhere(&self) -> Option<Result<RolesAnywhereProvider, CredentialsError>> {
        let table = self.roles_anywhere.as_ref()?;
        let build = || {
            let mut provider = RolesAnywhereProvider::new(
                &table.certificate,
                &table.private_key,
                &table.trust_anchor_arn,
                &table.profile_arn,
                &table.role_arn,
            )?;
            if let Some(chain) = &table.chain {
                provider = provider.with_chain(chain)?;
            }
            if let Some(name) = &table.session_name {
                provider = provider.with_session_name(name)?;
            }
            if let Some(seconds) = table.duration_seconds {
                provider = provider.with_duration(Duration::from_secs(seconds))?;
            }
            if let Some(url) = &table.endpoint {
                provider = provider.with_endpoint(url)?;
            }
            Ok(provider)
        };
        Some(build())
    }

    /// The `[[allow]]` rules; `None` when the file has no `allow` list at all.
    pub fn rules(&self) -> Result<Option<Vec<Rule>>, String> {
        let Some(tables) = &self.allow else { return Ok(None) };
        tables
            .iter()
            .map(|table| table.to_rule().map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()
            .map(Some)
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
        let rules: Vec<String> = file.rules().unwrap().unwrap().iter().map(ToString::to_string).collect();
        assert_eq!(rules, ["photos/in/=read,list", "*=list"]);
        assert!(file.credentials().is_some());
    }

    #[test]
    fn proxy_settings_parse_and_absent_ones_stay_absent() {
        let file =
            ConfigFile::parse("proxy = \"http://p:3128\"\nno_proxy = [\".corp\", \"10.0.0.0/8\"]\n").unwrap();
        assert_eq!(
            file.proxy(),
            FileProxy {
                proxy: Some("http://p:3128".into()),
                no_proxy: Some(vec![".corp".into(), "10.0.0.0/8".into()])
            }
        );
        assert_eq!(ConfigFile::default().proxy(), FileProxy::default());
        assert!(ConfigFile::parse("proxy_ca_bundle = \"x\"\n").is_err(), "unknown keys stay refused");
    }

    #[test]
    fn an_empty_allow_list_is_present_and_empty() {
        assert_eq!(ConfigFile::parse("allow = []\n").unwrap().rules().unwrap(), Some(vec![]));
        assert_eq!(ConfigFile::parse("region = \"eu-west-1\"\n").unwrap().rules().unwrap(), None);
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

    #[test]
    fn a_roles_anywhere_table_names_its_files() {
        let file = ConfigFile::parse(
            r#"
            [roles_anywhere]
            certificate = "/nonexistent/workload.crt"
            private_key = "/nonexistent/workload.key"
            trust_anchor_arn = "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/ta"
            profile_arn = "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/pr"
            role_arn = "arn:aws:iam::123456789012:role/uploader"
            "#,
        )
        .unwrap();
        let error = file.roles_anywhere().unwrap().unwrap_err().to_string();
        assert!(
            error.starts_with(
                "no credentials from roles-anywhere: cannot read the certificate /nonexistent/workload.crt"
            ),
            "{error}"
        );
        assert!(ConfigFile::default().roles_anywhere().is_none());
        let typo = ConfigFile::parse("[roles_anywhere]\ncertificat = \"x\"\n").err().unwrap();
        assert!(typo.contains("certificat"), "{typo}");
    }
}
