//! The command line's network settings: `--ca-bundle` and the aws CLI's
//! `--cli-connect-timeout` / `--cli-read-timeout`, `--proxy` (else `HTTPS_PROXY`, `HTTP_PROXY`,
//! `NO_PROXY`; `proxy` and `no_proxy` in `--config` between the flag and the environment), curl's `--resolve HOST:PORT:ADDR`, merged with `ca_bundle` in `--config`,
//! `AWS_CA_BUNDLE` and the profile's `ca_bundle` in the aws CLI's order.

use std::path::PathBuf;
use std::time::Duration;

use s3_connector_host::error::Error;
use s3_connector_host::network::proxy::FileProxy;
use s3_connector_host::network::{CaBundle, NetworkSettings, ProxySettings, ResolveOverrides, Trust};

/// The network flags as given.
pub struct Flags {
    /// `--ca-bundle FILE`.
    pub ca_bundle: Option<PathBuf>,
    /// `--cli-connect-timeout SECONDS`.
    pub connect_timeout: Option<u64>,
    /// `--cli-read-timeout SECONDS`.
    pub read_timeout: Option<u64>,
    /// `--proxy URL`.
    pub proxy: Option<String>,
    /// `--resolve HOST:PORT:ADDR`, repeated.
    pub resolve: Vec<String>,
}

/// The settings: a bundle from the first place that names one (its file read and checked now,
/// so a wrong path is a usage error before any request), the timeouts or their defaults.
pub fn settings(
    flags: Flags,
    config_file: Option<PathBuf>,
    file_proxy: &FileProxy,
    profile: Option<PathBuf>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<NetworkSettings, Error> {
    let defaults = NetworkSettings::default();
    let trust = match CaBundle::resolve(flags.ca_bundle, config_file, lookup, profile) {
        Some(bundle) => Trust::with_ca_bundle(bundle).map_err(|e| Error::Usage(e.to_string()))?,
        None => defaults.trust,
    };
    Ok(NetworkSettings {
        trust,
        connect_timeout: flags.connect_timeout.map_or(defaults.connect_timeout, Duration::from_secs),
        read_timeout: flags.read_timeout.map_or(defaults.read_timeout, Duration::from_secs),
        proxy: ProxySettings::resolve_with_file(flags.proxy.as_deref(), file_proxy, lookup)
            .map_err(|e| Error::Usage(e.to_string()))?,
        resolve: ResolveOverrides::parse(&flags.resolve, "--resolve")
            .map_err(|e| Error::Usage(e.to_string()))?,
    })
}
