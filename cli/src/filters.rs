//! `--exclude` and `--include`, as the aws CLI applies them: every path starts included, each
//! pattern is tried in the order given on the command line, and the last one that matches
//! decides. Patterns are matched against the path relative to the location's root (the local
//! directory, or the S3 folder), with `fnmatch`'s rules: `*` matches anything, `/` included,
//! `?` one character, `[abc]`, `[a-z]` and `[!abc]` a set. Pure, so that the rules are tested
//! here in a table rather than through the command line.

use clap::ArgMatches;

/// The filter flags, for `--help` and for clap to accept them; their order is read from the
/// parsed matches by [`from_matches`], since two lists of values lose it.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct FilterFlags {
    /// Leave out the paths matching PATTERN (relative to the source; * matches across /).
    /// With --include, the last pattern that matches a path decides, as in the aws CLI.
    #[arg(long, value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// Take back the paths matching PATTERN that an earlier --exclude left out.
    #[arg(long, value_name = "PATTERN")]
    pub include: Vec<String>,
}

/// Whether a pattern leaves paths out or takes them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `--exclude`.
    Exclude,
    /// `--include`.
    Include,
}

/// The filters of one command, in command-line order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    rules: Vec<(Kind, String)>,
}

impl Filters {
    /// Filters from patterns already in command-line order.
    pub fn new(rules: Vec<(Kind, String)>) -> Self {
        Self { rules }
    }

    /// Whether any pattern was given (a listing without filters need not be read twice).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether `relative` (`/`-separated, relative to the root) is taken: included unless the
    /// last matching pattern is an `--exclude`.
    pub fn admits(&self, relative: &str) -> bool {
        let path: Vec<char> = relative.chars().collect();
        let mut taken = true;
        for (kind, pattern) in &self.rules {
            let pattern: Vec<char> = pattern.chars().collect();
            if matches(&pattern, &path) {
                taken = *kind == Kind::Include;
            }
        }
        taken
    }
}

/// A filter given where there are no paths to filter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// `--exclude` or `--include` on a command naming one object.
    #[error("--exclude and --include choose among many paths; {command} takes them with --recursive")]
    NeedsRecursive {
        /// The command, as typed.
        command: &'static str,
    },
}

impl From<FilterError> for s3_connector_host::error::Error {
    fn from(error: FilterError) -> Self {
        s3_connector_host::error::Error::Usage(error.to_string())
    }
}

impl Filters {
    /// Refuses filters on a command that is not recursive: they would be silently ignored.
    pub fn require_recursive(&self, recursive: bool, command: &'static str) -> Result<(), FilterError> {
        match recursive || self.is_empty() {
            true => Ok(()),
            false => Err(FilterError::NeedsRecursive { command }),
        }
    }
}

/// The filters of the subcommand in `matches`, in the order they were written (clap keeps each
/// value's index on the command line).
pub fn from_matches(matches: &ArgMatches) -> Filters {
    let Some((_, sub)) = matches.subcommand() else { return Filters::default() };
    let mut indexed = Vec::new();
    for (id, kind) in [("exclude", Kind::Exclude), ("include", Kind::Include)] {
        let Ok(Some(values)) = sub.try_get_many::<String>(id) else { continue };
        let Some(indices) = sub.indices_of(id) else { continue };
        indexed.extend(indices.zip(values).map(|(index, value)| (index, kind, value.clone())));
    }
    indexed.sort_by_key(|(index, _, _)| *index);
    Filters::new(indexed.into_iter().map(|(_, kind, value)| (kind, value)).collect())
}

/// `fnmatch` of a whole path: `*` any run (slashes too), `?` one character, `[...]` a set.
fn matches(pattern: &[char], path: &[char]) -> bool {
    // Greedy with one backtrack point, the last `*`: linear for the patterns people write.
    let (mut p, mut s) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while s < path.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, s));
                p += 1;
                continue;
            }
            Some('?') => {
                p += 1;
                s += 1;
                continue;
            }
            Some('[') => {
                if let Some((hit, next)) = set(pattern, p, path[s]) {
                    if hit {
                        p = next;
                        s += 1;
                        continue;
                    }
                } else if path[s] == '[' {
                    // An unclosed `[` is a literal, as in fnmatch.
                    p += 1;
                    s += 1;
                    continue;
                }
            }
            Some(c) if *c == path[s] => {
                p += 1;
                s += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((star_p, star_s)) => {
                star = Some((star_p, star_s + 1));
                p = star_p + 1;
                s = star_s + 1;
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// The set starting at `pattern[open]` (a `[`): whether `c` is in it and where the pattern goes
/// on after it; `None` when the `[` is never closed.
fn set(pattern: &[char], open: usize, c: char) -> Option<(bool, usize)> {
    let mut i = open + 1;
    let negated = matches!(pattern.get(i), Some('!'));
    if negated {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    loop {
        let current = *pattern.get(i)?;
        // A `]` first in the set is a member, as in fnmatch (`[]]`).
        if current == ']' && !first {
            return Some((hit != negated, i + 1));
        }
        first = false;
        if pattern.get(i + 1) == Some(&'-') && pattern.get(i + 2).is_some_and(|end| *end != ']') {
            let end = pattern[i + 2];
            hit |= current <= c && c <= end;
            i += 3;
        } else {
            hit |= current == c;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Kind::{Exclude, Include};

    fn filters(rules: &[(Kind, &str)]) -> Filters {
        Filters::new(rules.iter().map(|(k, p)| (*k, (*p).to_owned())).collect())
    }

    #[test]
    fn fnmatch_rules() {
        let table: &[(&str, &str, bool)] = &[
            ("*", "a/b/c.txt", true),
            ("*.txt", "a/b/c.txt", true),
            ("*.txt", "c.txt.bak", false),
            ("a/*", "a/b/c", true),
            ("a/*", "b/a/c", false),
            ("?.txt", "a.txt", true),
            ("?.txt", "ab.txt", false),
            ("[abc].txt", "b.txt", true),
            ("[abc].txt", "d.txt", false),
            ("[!abc].txt", "d.txt", true),
            ("[a-c]x", "bx", true),
            ("[a-c]x", "dx", false),
            ("[]]x", "]x", true),
            ("[x", "[x", true),
            ("logs/*.log", "logs/2026/x.log", true),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("*a*b*", "xxaxxbxx", true),
            ("*a*b", "xxaxxbxx", false),
            ("", "", true),
            ("Café/*", "Café/x", true),
        ];
        for (pattern, path, expected) in table {
            let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), path.chars().collect());
            assert_eq!(matches(&p, &s), *expected, "{pattern} against {path}");
        }
    }

    #[test]
    fn the_last_matching_pattern_decides() {
        let table: &[(&[(Kind, &str)], &str, bool)] = &[
            (&[], "a.txt", true),
            (&[(Exclude, "*")], "a.txt", false),
            (&[(Exclude, "*"), (Include, "*.txt")], "a.txt", true),
            (&[(Exclude, "*"), (Include, "*.txt")], "a.jpg", false),
            // aws CLI docs: --include "*.txt" --exclude "*" excludes everything.
            (&[(Include, "*.txt"), (Exclude, "*")], "a.txt", false),
            (&[(Exclude, "*.tmp"), (Include, "keep/*"), (Exclude, "keep/x.tmp")], "keep/x.tmp", false),
            (&[(Exclude, "*.tmp"), (Include, "keep/*")], "keep/y.tmp", true),
            (&[(Include, "*.txt")], "a.jpg", true),
        ];
        for (rules, path, expected) in table {
            assert_eq!(filters(rules).admits(path), *expected, "{rules:?} on {path}");
        }
    }
}
