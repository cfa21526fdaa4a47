//! Which private CA bundle applies, when several places name one: the aws CLI's order (its
//! `--ca-bundle` flag, then `AWS_CA_BUNDLE`, then the profile's `ca_bundle`), with this
//! project's `--config` file between the flag and the environment, as for every other setting.

use std::path::PathBuf;

/// Where a CA bundle was named, so that an error about the file can say where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaBundleSource {
    /// The `--ca-bundle` flag.
    Flag,
    /// `ca_bundle` in the `--config` file.
    ConfigFile,
    /// The `AWS_CA_BUNDLE` environment variable.
    Environment,
    /// `ca_bundle` in the selected profile of the shared config file.
    Profile,
    /// An embedder's own setting.
    Library,
    /// `OTEL_EXPORTER_OTLP_CERTIFICATE`: the span collector's CA, not S3's.
    OtlpCertificate,
}

impl std::fmt::Display for CaBundleSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CaBundleSource::Flag => "--ca-bundle",
            CaBundleSource::ConfigFile => "ca_bundle in --config",
            CaBundleSource::Environment => "AWS_CA_BUNDLE",
            CaBundleSource::Profile => "the profile's ca_bundle",
            CaBundleSource::Library => "the connection's CA bundle",
            CaBundleSource::OtlpCertificate => "OTEL_EXPORTER_OTLP_CERTIFICATE",
        })
    }
}

/// A PEM file of CA certificates to trust besides the system's, and where it was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaBundle {
    /// The file.
    pub path: PathBuf,
    /// Where it was named.
    pub source: CaBundleSource,
}

impl CaBundle {
    /// The bundle that applies: `flag`, else `config_file`, else `AWS_CA_BUNDLE` through
    /// `lookup`, else `profile`. Empty values count as unset, as the SDKs read them.
    pub fn resolve(
        flag: Option<PathBuf>,
        config_file: Option<PathBuf>,
        lookup: impl Fn(&str) -> Option<String>,
        profile: Option<PathBuf>,
    ) -> Option<Self> {
        let given = |p: Option<PathBuf>| p.filter(|p| !p.as_os_str().is_empty());
        let candidates = [
            (given(flag), CaBundleSource::Flag),
            (given(config_file), CaBundleSource::ConfigFile),
            (given(lookup("AWS_CA_BUNDLE").map(PathBuf::from)), CaBundleSource::Environment),
            (given(profile), CaBundleSource::Profile),
        ];
        candidates.into_iter().find_map(|(path, source)| path.map(|path| Self { path, source }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_beats_the_config_file_which_beats_the_environment_which_beats_the_profile() {
        let p = |s: &str| Some(PathBuf::from(s));
        let env = |v: Option<&'static str>| {
            move |name: &str| (name == "AWS_CA_BUNDLE").then_some(v).flatten().map(str::to_owned)
        };
        let table: &[(
            Option<PathBuf>,
            Option<PathBuf>,
            Option<&'static str>,
            Option<PathBuf>,
            Option<(&str, CaBundleSource)>,
        )] = &[
            (p("f"), p("c"), Some("e"), p("p"), Some(("f", CaBundleSource::Flag))),
            (None, p("c"), Some("e"), p("p"), Some(("c", CaBundleSource::ConfigFile))),
            (None, None, Some("e"), p("p"), Some(("e", CaBundleSource::Environment))),
            (None, None, None, p("p"), Some(("p", CaBundleSource::Profile))),
            // An empty AWS_CA_BUNDLE is unset, not "trust nothing".
            (None, None, Some(""), p("p"), Some(("p", CaBundleSource::Profile))),
            (None, None, None, None, None),
        ];
        for (flag, file, environment, profile, want) in table {
            let got = CaBundle::resolve(flag.clone(), file.clone(), env(*environment), profile.clone());
            let want = want.map(|(path, source)| CaBundle { path: PathBuf::from(path), source });
            assert_eq!(got, want, "{flag:?} {file:?} {environment:?} {profile:?}");
        }
    }
}
