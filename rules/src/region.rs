//! AWS region names: the known list, a typo check with the nearest name suggested, and the
//! partition a region belongs to.
//!
//! The check only makes sense against AWS itself: an S3-compatible server (MinIO, Ceph, R2, a
//! local store) accepts whatever region name it was configured with, so callers apply
//! [`check_aws_region`] only when the endpoint is AWS's.

use std::fmt;

/// The regions of the commercial (`aws`), China (`aws-cn`) and GovCloud (`aws-us-gov`)
/// partitions, as of late 2025. A region AWS opens later is refused by [`check_aws_region`];
/// naming its endpoint explicitly (`https://s3.NEW-REGION.amazonaws.com`) still works, see
/// [`endpoint_names_region`].
pub const AWS_REGIONS: &[&str] = &[
    // aws
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    // aws-cn
    "cn-north-1",
    "cn-northwest-1",
    // aws-us-gov
    "us-gov-east-1",
    "us-gov-west-1",
];

/// The largest edit distance at which a known region is offered as "did you mean".
pub const MAX_SUGGESTION_DISTANCE: usize = 3;

/// Whether `name` is one of [`AWS_REGIONS`] (exactly: region names are lower case).
pub fn is_aws_region(name: &str) -> bool {
    AWS_REGIONS.contains(&name)
}

/// The ARN partition of a region: `aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`, else `aws`.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The Levenshtein distance between `a` and `b` (insertions, deletions and substitutions of
/// characters, each costing one).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // `row[j]` is the distance between the prefix of `a` read so far and `b[..j]`.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            let substitute = diagonal + usize::from(ca != *cb);
            row[j + 1] = substitute.min(above + 1).min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The known region closest to `name` (compared in lower case) and its distance; the first in
/// [`AWS_REGIONS`] order on a tie.
pub fn nearest_aws_region(name: &str) -> (&'static str, usize) {
    let lower = name.to_ascii_lowercase();
    let mut best = (AWS_REGIONS[0], usize::MAX);
    for region in AWS_REGIONS {
        let distance = edit_distance(&lower, region);
        if distance < best.1 {
            best = (region, distance);
        }
    }
    best
}

/// A region name AWS does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionError {
    /// The name as given.
    pub input: String,
    /// The nearest known region, when it is within [`MAX_SUGGESTION_DISTANCE`].
    pub suggestion: Option<&'static str>,
}

impl fmt::Display for RegionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "region {:?} is not an AWS region; ", self.input)?;
        match self.suggestion {
            Some(region) => write!(f, "did you mean {region:?}?"),
            None => f.write_str(
                "AWS regions look like us-east-1 or eu-central-2 (an S3-compatible server set with an \
                 endpoint accepts any name)",
            ),
        }
    }
}

impl std::error::Error for RegionError {}

/// Accepts a known AWS region; otherwise an error suggesting the nearest one when it is close.
pub fn check_aws_region(name: &str) -> Result<(), RegionError> {
    if is_aws_region(name) {
        return Ok(());
    }
    let (nearest, distance) = nearest_aws_region(name);
    Err(RegionError {
        input: name.to_owned(),
        suggestion: (distance <= MAX_SUGGESTION_DISTANCE).then_some(nearest),
    })
}

/// Whether an AWS endpoint host names `region` itself (`s3.REGION.amazonaws.com`,
/// `s3-fips.REGION.amazonaws.com`, `s3.dualstack.REGION.amazonaws.com.cn`, ...): a caller who
/// writes the region twice means it, so a region newer than [`AWS_REGIONS`] can still be used.
pub fn endpoint_names_region(host: &str, region: &str) -> bool {
    host.split('.').any(|label| label == region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_regions_pass_and_typos_get_the_nearest_name() {
        let table: &[(&str, Result<(), Option<&str>>)] = &[
            ("us-east-1", Ok(())),
            ("ap-southeast-7", Ok(())),
            ("mx-central-1", Ok(())),
            ("il-central-1", Ok(())),
            ("cn-northwest-1", Ok(())),
            ("us-gov-west-1", Ok(())),
            ("us-est-1", Err(Some("us-east-1"))),
            ("us-east1", Err(Some("us-east-1"))),
            ("eu-wset-1", Err(Some("eu-west-1"))),
            ("US-EAST-1", Err(Some("us-east-1"))),
            ("ap-southeast-9", Err(Some("ap-southeast-1"))),
            ("eu-central-3", Err(Some("eu-central-1"))),
            ("useast", Err(Some("us-east-1"))),
            ("default", Err(None)),
            ("mars-north-1", Err(None)),
            ("", Err(None)),
        ];
        for (input, expected) in table {
            let got = check_aws_region(input).map_err(|e| e.suggestion);
            assert_eq!(&got, expected, "{input:?}");
        }
    }

    #[test]
    fn messages_name_the_input_and_the_suggestion() {
        assert_eq!(
            check_aws_region("us-est-1").unwrap_err().to_string(),
            r#"region "us-est-1" is not an AWS region; did you mean "us-east-1"?"#
        );
        let far = check_aws_region("mars-north-1").unwrap_err().to_string();
        assert!(
            far.starts_with(r#"region "mars-north-1" is not an AWS region; AWS regions look like"#),
            "{far}"
        );
    }

    #[test]
    fn edit_distances() {
        let table: &[(&str, &str, usize)] = &[
            ("", "", 0),
            ("abc", "", 3),
            ("", "abc", 3),
            ("us-east-1", "us-east-1", 0),
            ("us-est-1", "us-east-1", 1),
            ("eu-wset-1", "eu-west-1", 2),
            ("kitten", "sitting", 3),
            ("flaw", "lawn", 2),
        ];
        for (a, b, d) in table {
            assert_eq!(edit_distance(a, b), *d, "{a} {b}");
            assert_eq!(edit_distance(b, a), *d, "{b} {a}");
        }
    }

    #[test]
    fn partitions_and_endpoints() {
        let table: &[(&str, &str)] = &[
            ("us-east-1", "aws"),
            ("cn-north-1", "aws-cn"),
            ("us-gov-east-1", "aws-us-gov"),
            ("eu-west-1", "aws"),
        ];
        for (region, p) in table {
            assert_eq!(partition(region), *p, "{region}");
        }
        assert!(endpoint_names_region("s3.xx-new-1.amazonaws.com", "xx-new-1"));
        assert!(endpoint_names_region("s3.dualstack.cn-north-1.amazonaws.com.cn", "cn-north-1"));
        assert!(!endpoint_names_region("s3.amazonaws.com", "xx-new-1"));
        assert!(!endpoint_names_region("s3.xx-new-12.amazonaws.com", "xx-new-1"));
        let mut sorted = AWS_REGIONS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), AWS_REGIONS.len(), "no region listed twice");
    }
}
