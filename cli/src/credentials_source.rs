//! Which credentials the CLI signs with, and the words `--verbose` uses for where they came
//! from, in the order the aws CLI looks: `--no-sign-request`, the key flags, the config file's
//! tables, the default chain; then `--role-arn` on top of whichever was found.

use std::sync::Arc;

use s3_connector_host::Policy;
use s3_connector_host::credentials::{
    Anonymous, AssumeRoleProvider, CachedProvider, ChainProvider, CredentialsProvider, RoleSessionSettings,
    Secret, SessionPolicySettings, StaticCredentials, default_chain,
};
use s3_connector_host::error::Error;
use s3_connector_host::settings::Connection;

use crate::config_file::ConfigFile;
use crate::{Cli, no_credentials};

/// A credentials provider and where it came from, as `--verbose` says it.
type Source = (Arc<dyn CredentialsProvider>, String);

/// The credentials of this command line.
pub(crate) async fn choose(
    cli: &Cli,
    file: &ConfigFile,
    connection: &Connection,
    policy: &Policy,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Source, Error> {
    let unsigned = cli.no_sign_request || file.no_sign_request();
    let found = if unsigned {
        let source = if cli.no_sign_request { "--no-sign-request" } else { "no_sign_request in --config" };
        (
            Arc::new(Anonymous) as Arc<dyn CredentialsProvider>,
            format!("nowhere: requests go unsigned ({source})"),
        )
    } else if let Some(keys) = key_flags(cli)? {
        keys
    } else if let Some(tables) = config_tables(file, cli.profile.is_some(), connection)? {
        tables
    } else {
        let chain = chain(cli, file, connection, lookup)?;
        let profile = cli.profile.clone().or_else(|| lookup("AWS_PROFILE"));
        no_credentials::check(&chain, profile.as_deref().unwrap_or("default")).await?;
        let source = format!("the default chain: {}", chain.description());
        (Arc::new(chain) as Arc<dyn CredentialsProvider>, source)
    };
    match &cli.role_arn {
        Some(arn) => assumed_role(cli, arn, found, connection, policy, lookup),
        None => Ok(found),
    }
}

/// `--access-key-id` and `--secret-access-key` (with `--session-token`), which go together.
fn key_flags(cli: &Cli) -> Result<Option<Source>, Error> {
    match (&cli.access_key_id, &cli.secret_access_key) {
        (Some(id), Some(secret)) => Ok(Some((
            Arc::new(StaticCredentials::new(
                id.clone(),
                Secret::new(secret.clone()),
                cli.session_token.clone().map(Secret::new),
            )),
            "--access-key-id and --secret-access-key".to_owned(),
        ))),
        (Some(_), None) | (None, Some(_)) => {
            Err(Error::Usage("--access-key-id and --secret-access-key go together; give both".to_owned()))
        }
        (None, None) => Ok(None),
    }
}

/// The config file's `[credentials]` or `[roles_anywhere]` table (one of them), unless
/// `--profile` names the credentials instead: a flag wins over the file, as every flag does.
fn config_tables(
    file: &ConfigFile,
    profile_flag: bool,
    connection: &Connection,
) -> Result<Option<Source>, Error> {
    if profile_flag {
        return Ok(None);
    }
    match (file.credentials(), file.roles_anywhere()) {
        (Some(_), Some(_)) => {
            Err(Error::Usage("--config has both [credentials] and [roles_anywhere]; keep one".to_owned()))
        }
        (Some(provider), None) => {
            Ok(Some((Arc::new(provider), "the [credentials] table of --config".to_owned())))
        }
        (None, Some(provider)) => {
            let provider = provider
                .map_err(|e| Error::Usage(e.to_string()))?
                .with_trust(connection.network.trust.clone())
                .with_proxies(connection.network.proxy.clone());
            let source =
                format!("IAM Roles Anywhere (the [roles_anywhere] table of --config) at {}", provider.url());
            Ok(Some((Arc::new(CachedProvider::new(Arc::new(provider))), source)))
        }
        (None, None) => Ok(None),
    }
}

/// The default chain (environment, profiles, web identity, container, IMDS), whose STS and
/// credential endpoints trust what S3 does (the bundle chosen from the flag, `--config`,
/// `AWS_CA_BUNDLE` or the profile) and go through the same proxy (`--proxy`, else `proxy` in
/// `--config`, stands for the proxy variables; `no_proxy` in `--config` for `NO_PROXY`).
fn chain(
    cli: &Cli,
    file: &ConfigFile,
    connection: &Connection,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<ChainProvider, Error> {
    let bundle = connection.network.trust.ca_bundle().map(|b| b.path.display().to_string());
    let file_proxy = file.proxy();
    let proxy = cli.proxy.clone().or(file_proxy.proxy.clone());
    let no_proxy = file_proxy.no_proxy.map(|entries| entries.join(","));
    let chain_lookup = |name: &str| match name {
        "AWS_CA_BUNDLE" => bundle.clone(),
        "https_proxy" | "HTTPS_PROXY" | "http_proxy" | "HTTP_PROXY" if proxy.is_some() => proxy.clone(),
        "no_proxy" | "NO_PROXY" if no_proxy.is_some() => no_proxy.clone(),
        _ => lookup(name),
    };
    default_chain(chain_lookup, cli.profile.as_deref()).map_err(|e| {
        let hint = if e.provider == "chain" {
            "; or pass --access-key-id and --secret-access-key, or add a [credentials] table to --config FILE"
        } else {
            ""
        };
        Error::Usage(format!("{e}{hint}"))
    })
}

/// `--role-arn`: the role assumed with the credentials `found`, cached until near expiry; with
/// `--session-policy`, limited to the `--allow` rules.
fn assumed_role(
    cli: &Cli,
    arn: &str,
    (credentials, source): Source,
    connection: &Connection,
    policy: &Policy,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Source, Error> {
    let mut role = AssumeRoleProvider::new(credentials, arn)?.for_connection(connection, lookup)?;
    if cli.session_policy {
        role = role.with_session_policy(policy)?;
    }
    let limited = if cli.session_policy { ", limited to the --allow rules" } else { "" };
    let source = format!("role {arn} (--role-arn{limited}) via {source}");
    Ok((Arc::new(CachedProvider::new(Arc::new(role))), source))
}
