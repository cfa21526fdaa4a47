//! Which policy the CLI enforces, and what it tells the user about it. It exists because the
//! rules come from three places with an order that must hold: `--allow` flags replace a config
//! file's `[[allow]]` rules (a flag wins over the file, as for every setting, so a flag can
//! narrow a broad file), a file whose `allow` list is present and empty allows nothing, and only
//! when no rule is given anywhere does the CLI fall back to allowing everything, with a warning.

use s3_connector_host::policy::{Policy, PolicyConfigError, Rule};

/// The rule that grants what the allow-all default grants: every bucket, every access class.
pub const ALL: &str = "*=read,write,delete,list,admin";

/// Where the rules in force came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `--allow` flags; `replacing_file` when the config file had rules of its own.
    Flags {
        /// The config file had an `allow` list, now ignored.
        replacing_file: bool,
    },
    /// The config file's `allow` list (possibly empty: nothing is allowed).
    File,
    /// No rule anywhere: the CLI's allow-all default.
    Default,
}

/// The policy in force and its origin.
#[derive(Debug, Clone)]
pub struct PolicySource {
    /// The policy the connector enforces.
    pub policy: Policy,
    /// Where its rules came from.
    pub origin: Origin,
}

impl PolicySource {
    /// Flags, else the file's rules (`None`: the file has no `allow` list), else allow-all.
    pub fn resolve(flags: &[String], file: Option<Vec<Rule>>) -> Result<Self, PolicyConfigError> {
        if !flags.is_empty() {
            let policy = Policy::from_allow_flags(flags)?;
            return Ok(Self { policy, origin: Origin::Flags { replacing_file: file.is_some() } });
        }
        Ok(match file {
            Some(rules) => Self { policy: Policy::new(rules), origin: Origin::File },
            None => Self { policy: Policy::allow_all(), origin: Origin::Default },
        })
    }

    /// One line for `--verbose`: the rules in force and where they came from.
    pub fn describe(&self) -> String {
        let origin = match self.origin {
            Origin::Flags { replacing_file: true } => "--allow (replacing the [[allow]] rules of --config)",
            Origin::Flags { replacing_file: false } => "--allow",
            Origin::File => "the [[allow]] rules of --config",
            Origin::Default => {
                return format!(
                    "policy: the CLI's default, every bucket and operation ({})",
                    self.policy.summary()
                );
            }
        };
        format!("policy from {origin}: {}", self.policy.summary())
    }

    /// The warning of the allow-all default, which no rule asked for: `None` otherwise. Its
    /// advice is the rule that allows what the default does, `admin` included: `--allow '*'`
    /// alone grants `read,write,delete,list` and would then refuse `mb` and `rb`.
    pub fn default_warning(&self, endpoint: &str) -> Option<String> {
        (self.origin == Origin::Default).then(|| {
            format!(
                "no --allow flag or [[allow]] rule, so the CLI allows every bucket and operation \
                 on {endpoint}; pass --allow '{ALL}' to say you mean it, or narrow it"
            )
        })
    }

    /// For `--verbose`: rules whose prefix does not end in `/`. S3 prefixes are literal, so
    /// `photos/in` also grants `photos/inbox/...`; that may be meant, but is often a slip.
    pub fn prefix_warnings(&self) -> Vec<String> {
        self.policy
            .rules()
            .iter()
            .filter_map(|rule| {
                let prefix = rule.prefix.as_deref().filter(|p| !p.ends_with('/'))?;
                Some(format!(
                    "warning: rule {rule}: prefix {prefix:?} does not end in /, so it also matches keys \
                     such as \"{prefix}-other/x\" (write \"{prefix}/\" for a folder)"
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3_connector_host::policy::parse_allow;

    fn flags(list: &[&str]) -> Vec<String> {
        list.iter().map(|f| (*f).to_owned()).collect()
    }

    #[test]
    fn flags_replace_the_file_and_an_empty_file_list_allows_nothing() {
        let file = vec![parse_allow("alpha").unwrap()];
        let narrowed = PolicySource::resolve(&flags(&["alpha/docs/=read"]), Some(file.clone())).unwrap();
        assert_eq!(narrowed.policy.summary(), "alpha/docs/=read");
        assert_eq!(narrowed.origin, Origin::Flags { replacing_file: true });
        let from_file = PolicySource::resolve(&[], Some(file)).unwrap();
        assert_eq!(
            from_file.describe(),
            "policy from the [[allow]] rules of --config: alpha=read,write,delete,list"
        );
        let empty = PolicySource::resolve(&[], Some(vec![])).unwrap();
        assert_eq!(empty.policy.summary(), "nothing");
        assert!(empty.default_warning("http://x").is_none());
        let default = PolicySource::resolve(&[], None).unwrap();
        assert_eq!(default.policy, Policy::allow_all());
        assert!(
            default.default_warning("http://x").unwrap().contains("--allow '*=read,write,delete,list,admin'")
        );
        let advised = PolicySource::resolve(&flags(&[ALL]), None).unwrap();
        assert_eq!(advised.policy, Policy::allow_all());
        let explicit = PolicySource::resolve(&flags(&["*"]), None).unwrap();
        assert!(explicit.default_warning("http://x").is_none());
    }

    #[test]
    fn prefixes_without_a_slash_are_named() {
        let source =
            PolicySource::resolve(&flags(&["photos/in=read", "photos/out/=read", "logs"]), None).unwrap();
        let warnings = source.prefix_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("rule photos/in=read: prefix \"in\""), "{}", warnings[0]);
    }
}
