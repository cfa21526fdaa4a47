//! How a server or proxy that resolves dot segments reads an object's path.
//!
//! S3 keys are literal: `in/../../other/k` is a key of its own. But a proxy that normalises
//! URIs (RFC 3986, section 5.2.4) or an S3-compatible store that maps keys to files (s3s-fs
//! among them) reads `photos/in/../../other/k` as `other/k`. The policy checks the literal
//! key and every such reading, so that a key cannot climb out of its prefix or its bucket.

/// Another reading of a request's bucket and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// The object a normalising server or proxy would touch.
    Object {
        /// The bucket it would read from the path.
        bucket: String,
        /// The key it would read from the path.
        key: String,
    },
    /// The path climbs above the root, or resolves to a bucket or to nothing at all.
    NoObject,
}

/// The readings of `bucket/key` that differ from the literal one: none when the key has no
/// `.` or `..` segment. Two readings are considered: RFC 3986's (empty segments kept) and a
/// file system's (empty segments dropped).
pub fn other_readings(bucket: &str, key: &str) -> Vec<Reading> {
    if !key.split('/').any(|segment| segment == "." || segment == "..") {
        return Vec::new();
    }
    let path = format!("{bucket}/{key}");
    let mut readings = Vec::new();
    for keep_empty in [true, false] {
        let reading = resolve(&path, keep_empty);
        let literal = matches!(&reading, Reading::Object { bucket: b, key: k } if b == bucket && k == key);
        if !literal && !readings.contains(&reading) {
            readings.push(reading);
        }
    }
    readings
}

fn resolve(path: &str, keep_empty: bool) -> Reading {
    let mut resolved: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." | ".." => {
                if *segment == ".." && resolved.pop().is_none() {
                    return Reading::NoObject;
                }
                // RFC 3986: a final dot segment leaves the path ending in a slash.
                if last && keep_empty {
                    resolved.push("");
                }
            }
            "" if !keep_empty => {}
            other => resolved.push(other),
        }
    }
    match resolved.split_first() {
        Some((bucket, key)) if !bucket.is_empty() && !key.join("/").is_empty() => {
            Reading::Object { bucket: (*bucket).to_owned(), key: key.join("/") }
        }
        _ => Reading::NoObject,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(bucket: &str, key: &str) -> Reading {
        Reading::Object { bucket: bucket.into(), key: key.into() }
    }

    #[test]
    fn dot_segments_are_resolved_as_a_normalising_server_would() {
        let table: &[(&str, &str, Vec<Reading>)] = &[
            ("b", "in/a.jpg", vec![]),
            ("b", "in/..x/y.", vec![]),
            ("b", "x/../y", vec![object("b", "y")]),
            ("b", "./z", vec![object("b", "z")]),
            ("b", "in/../../other/k", vec![object("other", "k")]),
            // RFC 3986 pops the empty segment; a file system drops it first.
            ("b", "in//../x", vec![object("b", "in/x"), object("b", "x")]),
            ("b", "../../etc/passwd", vec![Reading::NoObject]),
            ("b", "in/..", vec![Reading::NoObject]),
            ("b", "..", vec![Reading::NoObject]),
        ];
        for (bucket, key, expected) in table {
            assert_eq!(&other_readings(bucket, key), expected, "{bucket}/{key}");
        }
    }
}
