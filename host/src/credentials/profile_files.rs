//! The shared `~/.aws/config` and `~/.aws/credentials` files: where they are, how their INI
//! text parses, and how their sections merge into named profiles.
//!
//! Parsing is pure ([`parse_ini`], [`ProfileSet::parse`]); only [`ProfileSet::load`] reads
//! files. The rules follow the AWS SDKs' shared-config format: `[profile NAME]` (and `[default]`)
//! in the config file, `[NAME]` in the credentials file, `key = value` properties, full-line
//! comments with `#` or `;` and inline ones after whitespace, indented lines under an empty
//! property as sub-properties (`s3 =` / `  addressing_style = path` becomes `s3.addressing_style`),
//! other indented lines as continuations. The credentials file wins over the config file for
//! the same property of the same profile.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::CredentialsError;

/// Properties whose values are never printed.
const SENSITIVE: &[&str] = &[
    "aws_secret_access_key",
    "aws_session_token",
    "credential_process",
    "external_id",
    "aws_security_token",
];

/// One profile: a name and its properties.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Profile {
    name: String,
    properties: BTreeMap<String, String>,
}

impl Profile {
    /// The profile's name (`default`, `dev`, ...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A property's value, `None` when missing or empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.properties.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// Every property name.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.properties.keys().map(String::as_str)
    }
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        map.entry(&"name", &self.name);
        for (key, value) in &self.properties {
            if SENSITIVE.contains(&key.as_str()) {
                map.entry(key, &"<redacted>");
            } else {
                map.entry(key, value);
            }
        }
        map.finish()
    }
}

/// Which of the two files a text comes from; they name sections differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `~/.aws/config`: `[default]`, `[profile NAME]`; other sections (`[sso-session X]`,
    /// `[services X]`) are not profiles.
    Config,
    /// `~/.aws/credentials`: `[NAME]`.
    Credentials,
}

/// One parsed section: the text between the brackets and its properties in file order.
pub type Section = (String, Vec<(String, String)>);

/// Parses INI text into sections. Errors give the 1-based line and what was expected.
pub(crate) fn parse_ini(text: &str) -> Result<Vec<Section>, String> {
    let mut sections: Vec<Section> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') {
            let Some(end) = line.find(']') else {
                return Err(format!("line {number}: section header `{line}` has no closing `]`"));
            };
            let after = line[end + 1..].trim();
            if !(after.is_empty() || after.starts_with('#') || after.starts_with(';')) {
                return Err(format!("line {number}: unexpected text `{after}` after the section header"));
            }
            sections.push((line[1..end].trim().to_owned(), Vec::new()));
            continue;
        }
        let Some((_, properties)) = sections.last_mut() else {
            return Err(format!(
                "line {number}: a property before any `[section]`; put it under `[default]` or `[profile NAME]`"
            ));
        };
        let indented = raw.starts_with(' ') || raw.starts_with('\t');
        if indented && let Some((parent, value)) = properties.last_mut() {
            let parent_key = parent.split('.').next().unwrap_or_default().to_owned();
            let is_nested = value.is_empty() || parent.contains('.');
            if is_nested && let Some((key, sub)) = line.split_once('=') {
                properties
                    .push((format!("{parent_key}.{}", key.trim()), strip_comment(sub.trim()).to_owned()));
            } else {
                value.push('\n');
                value.push_str(line);
            }
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            // The line itself is not quoted: it may be a secret that lost its `key =`.
            return Err(format!("line {number}: expected `key = value` or `[section]`"));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(format!("line {number}: a property without a name before `=`"));
        }
        properties.push((key.to_owned(), strip_comment(value.trim()).to_owned()));
    }
    Ok(sections)
}

/// A value without an inline comment (`#` or `;` after whitespace).
fn strip_comment(value: &str) -> &str {
    let cut = value
        .char_indices()
        .find(|&(i, c)| (c == '#' || c == ';') && i > 0 && value[..i].ends_with([' ', '\t']))
        .map_or(value.len(), |(i, _)| i);
    value[..cut].trim_end()
}

/// The profile name a section header names in a file of `kind`, if it names a profile.
pub fn profile_name(kind: FileKind, header: &str) -> Option<String> {
    match kind {
        FileKind::Credentials => Some(header.to_owned()),
        FileKind::Config if header == "default" => Some(header.to_owned()),
        FileKind::Config => {
            let rest = header.strip_prefix("profile")?;
            let name = rest.trim_start();
            (rest.len() > name.len() && !name.is_empty()).then(|| name.trim().to_owned())
        }
    }
}

/// The session name a config file's `[sso-session NAME]` header names, if it is one.
fn sso_session_name(header: &str) -> Option<String> {
    let rest = header.strip_prefix("sso-session")?;
    let name = rest.trim();
    (rest.len() > rest.trim_start().len() && !name.is_empty()).then(|| name.to_owned())
}

/// Every profile of both files, and which one is selected.
#[derive(Clone, Debug, Default)]
pub struct ProfileSet {
    profiles: BTreeMap<String, Profile>,
    /// The config file's `[sso-session NAME]` sections, which SSO profiles name.
    sso_sessions: BTreeMap<String, Profile>,
    selected: String,
    explicit: bool,
    files: Vec<PathBuf>,
}

impl ProfileSet {
    /// Merges the texts of the config and credentials files (either may be absent) and selects
    /// `selected` (`default` when `None`). Errors name the file kind and line.
    pub fn parse(
        config: Option<&str>,
        credentials: Option<&str>,
        selected: Option<&str>,
    ) -> Result<Self, String> {
        let mut profiles: BTreeMap<String, Profile> = BTreeMap::new();
        let mut sso_sessions: BTreeMap<String, Profile> = BTreeMap::new();
        for (kind, text) in [(FileKind::Config, config), (FileKind::Credentials, credentials)] {
            let Some(text) = text else { continue };
            let label = match kind {
                FileKind::Config => "config file",
                FileKind::Credentials => "credentials file",
            };
            for (header, properties) in parse_ini(text).map_err(|e| format!("{label}, {e}"))? {
                if kind == FileKind::Config
                    && let Some(name) = sso_session_name(&header)
                {
                    let session = sso_sessions
                        .entry(name.clone())
                        .or_insert_with(|| Profile { name, properties: BTreeMap::new() });
                    session.properties.extend(properties);
                    continue;
                }
                let Some(name) = profile_name(kind, &header) else { continue };
                let profile = profiles
                    .entry(name.clone())
                    .or_insert_with(|| Profile { name, properties: BTreeMap::new() });
                profile.properties.extend(properties);
            }
        }
        Ok(Self {
            profiles,
            sso_sessions,
            selected: selected.unwrap_or("default").to_owned(),
            explicit: selected.is_some(),
            files: Vec::new(),
        })
    }

    /// Reads the files the SDKs read: `AWS_CONFIG_FILE` (else `~/.aws/config`) and
    /// `AWS_SHARED_CREDENTIALS_FILE` (else `~/.aws/credentials`), through `lookup` (normally
    /// `std::env::var`). Missing files count as empty. The profile is `profile`, else
    /// `AWS_PROFILE`, else `default`.
    pub fn load(
        lookup: &dyn Fn(&str) -> Option<String>,
        profile: Option<&str>,
    ) -> Result<Self, CredentialsError> {
        let error = |reason: String| CredentialsError { provider: "profile", reason };
        let nonempty = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let home = nonempty("HOME").or_else(|| nonempty("USERPROFILE"));
        let path_of = |variable: &str, default: &str| -> Option<PathBuf> {
            match nonempty(variable) {
                Some(path) => Some(expand_home(&path, home.as_deref())),
                None => home.as_ref().map(|home| Path::new(home).join(".aws").join(default)),
            }
        };
        let mut texts = Vec::new();
        let mut files = Vec::new();
        for (variable, default) in
            [("AWS_CONFIG_FILE", "config"), ("AWS_SHARED_CREDENTIALS_FILE", "credentials")]
        {
            let text = match path_of(variable, default) {
                Some(path) => match std::fs::read_to_string(&path) {
                    Ok(text) => {
                        files.push(path);
                        Some(text)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => {
                        return Err(error(format!(
                            "cannot read {} ({e}); fix its permissions or point {variable} elsewhere",
                            path.display()
                        )));
                    }
                },
                None => None,
            };
            texts.push(text);
        }
        let selected = profile.map(str::to_owned).or_else(|| nonempty("AWS_PROFILE"));
        let mut set =
            Self::parse(texts[0].as_deref(), texts[1].as_deref(), selected.as_deref()).map_err(|e| {
                let shown: Vec<_> = files.iter().map(|f| f.display().to_string()).collect();
                error(format!("{e} (files: {}); fix the line or move the file away", shown.join(", ")))
            })?;
        set.files = files;
        Ok(set)
    }

    /// A profile by name.
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    /// The selected profile's name.
    pub fn selected(&self) -> &str {
        &self.selected
    }

    /// Whether the profile was named (argument or `AWS_PROFILE`) rather than `default`.
    pub fn is_explicit(&self) -> bool {
        self.explicit
    }

    /// The selected profile, if either file defines it.
    pub fn selected_profile(&self) -> Option<&Profile> {
        self.get(&self.selected)
    }

    /// The files that were read.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// A `[sso-session NAME]` section of the config file by name.
    pub fn sso_session(&self, name: &str) -> Option<&Profile> {
        self.sso_sessions.get(name)
    }

    /// Every profile name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.profiles.keys().map(String::as_str)
    }
}

/// `~/x` and `~` with the home directory.
fn expand_home(path: &str, home: Option<&str>) -> PathBuf {
    match (path.strip_prefix("~/").or_else(|| path.strip_prefix("~\\")), home) {
        (Some(rest), Some(home)) => Path::new(home).join(rest),
        _ if path == "~" && home.is_some() => PathBuf::from(home.unwrap_or_default()),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_text_parses_into_sections() {
        let table: &[(&str, Result<Vec<(&str, Vec<(&str, &str)>)>, &str>)] = &[
            ("", Ok(vec![])),
            ("# only a comment\n; another\n", Ok(vec![])),
            ("[default]\nregion = eu-west-1\n", Ok(vec![("default", vec![("region", "eu-west-1")])])),
            (
                "[ default ] # comment\nregion=eu-west-1 ; inline\n",
                Ok(vec![("default", vec![("region", "eu-west-1")])]),
            ),
            ("[a]\nkey = with#hash\n", Ok(vec![("a", vec![("key", "with#hash")])])),
            ("[a]\nkey = x = y\n", Ok(vec![("a", vec![("key", "x = y")])])),
            (
                "[profile dev]\ns3 =\n  addressing_style = path\n  max = 2\nregion = us-west-2\n",
                Ok(vec![(
                    "profile dev",
                    vec![
                        ("s3", ""),
                        ("s3.addressing_style", "path"),
                        ("s3.max", "2"),
                        ("region", "us-west-2"),
                    ],
                )]),
            ),
            ("[a]\nlong = one\n  two\n", Ok(vec![("a", vec![("long", "one\ntwo")])])),
            ("[a]\n[b]\nk = v\n", Ok(vec![("a", vec![]), ("b", vec![("k", "v")])])),
            ("region = x\n", Err("line 1: a property before any `[section]`")),
            ("[a\n", Err("line 1: section header `[a` has no closing `]`")),
            ("[a] junk\n", Err("line 1: unexpected text `junk` after the section header")),
            ("[a]\nAKIASECRETLINE rest\n", Err("line 2: expected `key = value` or `[section]`")),
            ("[a]\n = v\n", Err("line 2: a property without a name before `=`")),
        ];
        for (text, expected) in table {
            let got = parse_ini(text);
            match expected {
                Ok(sections) => {
                    let sections: Vec<Section> = sections
                        .iter()
                        .map(|(h, p)| {
                            (h.to_string(), p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
                        })
                        .collect();
                    assert_eq!(got, Ok(sections), "{text:?}");
                }
                Err(prefix) => {
                    let error = got.unwrap_err();
                    assert!(error.starts_with(prefix), "{text:?}: {error}");
                }
            }
        }
    }

    #[test]
    fn section_headers_name_profiles_by_file() {
        let table: &[(FileKind, &str, Option<&str>)] = &[
            (FileKind::Config, "default", Some("default")),
            (FileKind::Config, "profile dev", Some("dev")),
            (FileKind::Config, "profile   dev ", Some("dev")),
            (FileKind::Config, "profile default", Some("default")),
            (FileKind::Config, "profiledev", None),
            (FileKind::Config, "profile", None),
            (FileKind::Config, "dev", None),
            (FileKind::Config, "sso-session corp", None),
            (FileKind::Config, "services local", None),
            (FileKind::Credentials, "dev", Some("dev")),
            (FileKind::Credentials, "default", Some("default")),
        ];
        for (kind, header, expected) in table {
            assert_eq!(profile_name(*kind, header).as_deref(), *expected, "{kind:?} [{header}]");
        }
    }

    #[test]
    fn sso_session_sections_are_kept_apart_from_profiles() {
        let config = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\
                      [profile dev]\nsso_session = corp\n[sso-sessioncorp]\nx = y\n";
        // The credentials file has no sso-session sections: its `[sso-session corp]` is a profile.
        let credentials = "[sso-session corp]\nsso_region = us-east-1\n";
        let set = ProfileSet::parse(Some(config), Some(credentials), Some("dev")).unwrap();
        let session = set.sso_session("corp").unwrap();
        assert_eq!(session.get("sso_region"), Some("eu-west-1"));
        assert_eq!(session.get("sso_start_url"), Some("https://corp.awsapps.com/start"));
        assert!(set.sso_session("sessioncorp").is_none() && set.sso_session("dev").is_none());
        assert_eq!(set.names().collect::<Vec<_>>(), ["dev", "sso-session corp"]);
    }

    #[test]
    fn credentials_file_wins_over_config_file() {
        let config = "[default]\nregion = eu-west-1\naws_access_key_id = FROMCONFIG\n[profile dev]\nregion = us-west-2\n\
                      [dev]\nignored = yes\n";
        let credentials = "[default]\naws_access_key_id = FROMCREDS\naws_secret_access_key = s3cr3t\n";
        let set = ProfileSet::parse(Some(config), Some(credentials), None).unwrap();
        let default = set.selected_profile().unwrap();
        assert_eq!(default.get("aws_access_key_id"), Some("FROMCREDS"));
        assert_eq!(default.get("region"), Some("eu-west-1"));
        assert_eq!(set.get("dev").unwrap().get("region"), Some("us-west-2"));
        assert_eq!(set.get("dev").unwrap().get("ignored"), None);
        assert!(!set.is_explicit());
        let debug = format!("{set:?}");
        assert!(debug.contains("FROMCREDS") && !debug.contains("s3cr3t"), "{debug}");

        let set = ProfileSet::parse(None, Some(credentials), Some("dev")).unwrap();
        assert!(set.is_explicit() && set.selected_profile().is_none());
        let error = ProfileSet::parse(Some("[default]\nx\n"), None, None).unwrap_err();
        assert_eq!(error, "config file, line 2: expected `key = value` or `[section]`");
    }

    #[test]
    fn files_come_from_the_environment_or_home() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".aws")).unwrap();
        std::fs::write(home.join(".aws/config"), "[profile p]\nregion = eu-central-1\n").unwrap();
        std::fs::write(dir.path().join("creds"), "[p]\naws_access_key_id = AKID\n").unwrap();
        let home_text = home.display().to_string();
        let creds = dir.path().join("creds").display().to_string();
        let lookup = move |name: &str| match name {
            "HOME" => Some(home_text.clone()),
            "AWS_SHARED_CREDENTIALS_FILE" => Some(creds.clone()),
            "AWS_PROFILE" => Some("p".to_owned()),
            _ => None,
        };
        let set = ProfileSet::load(&lookup, None).unwrap();
        assert_eq!(set.selected(), "p");
        let p = set.selected_profile().unwrap();
        assert_eq!((p.get("region"), p.get("aws_access_key_id")), (Some("eu-central-1"), Some("AKID")));
        assert_eq!(set.files().len(), 2);
        let set = ProfileSet::load(&lookup, Some("other")).unwrap();
        assert_eq!(set.selected(), "other");
        let nothing = ProfileSet::load(&|_| None, None).unwrap();
        assert!(nothing.files().is_empty() && nothing.selected_profile().is_none());
        assert_eq!(expand_home("~/x", Some("/h")), PathBuf::from("/h/x"));
        assert_eq!(expand_home("/abs", Some("/h")), PathBuf::from("/abs"));
    }
}
