//! `mv`'s permissions, checked before anything is sent. A move is a copy and then a delete;
//! checking each request as it goes (the egress guard) let a policy with `write` on the
//! destination and no `delete` on the source copy the object and then refuse the delete,
//! leaving both. Here every request the move will make is built as the guard would read it and
//! put to the host's [`Policy`] first: refused, nothing is sent.

use std::path::Path;

use super::s3_uri::S3Uri;
use super::transfer::{copy_target, upload_target};
use s3_connector_host::error::Error;
use s3_connector_host::policy::{Denial, Policy, S3Action, S3Request};

/// Checks every request `mv source destination` needs; the first refusal names the move and
/// the rule it lacks.
pub fn check(policy: &Policy, source: &str, destination: &str) -> Result<(), Error> {
    for request in requests(source, destination)? {
        policy.check(&request).map_err(|denial| {
            Error::Denied(Denial(format!(
                "mv {source} {destination} was not started, as the policy would stop it half-way: {}",
                denial.0
            )))
        })?;
    }
    Ok(())
}

/// The requests of a move, as the egress guard classifies them: the copy (an upload, a
/// download or a server-side copy), then the source's delete when it is an object.
fn requests(source: &str, destination: &str) -> Result<Vec<S3Request>, Error> {
    let parse = |text: &str| S3Uri::parse(text).transpose().map_err(Error::Usage);
    let (from, to) = (parse(source)?, parse(destination)?);
    let mut requests = Vec::new();
    match (&from, to) {
        (Some(from), Some(to)) => {
            let key = from.require_key().map_err(Error::Usage)?;
            let to = copy_target(key, to);
            let mut copy = S3Request::object(S3Action::CopyObject, &to.bucket, &to.key);
            copy.copy_source = Some((from.bucket.clone(), key.to_owned()));
            requests.push(copy);
        }
        (Some(from), None) => {
            let key = from.require_key().map_err(Error::Usage)?;
            requests.push(S3Request::object(S3Action::GetObject, &from.bucket, key));
        }
        (None, Some(to)) => {
            let to = upload_target(Path::new(source), to)?;
            requests.push(S3Request::object(S3Action::PutObject, &to.bucket, &to.key));
        }
        // cp says why a move between two local paths is not this tool's job.
        (None, None) => {}
    }
    if let Some(from) = &from {
        requests.push(S3Request::object(S3Action::DeleteObject, &from.bucket, &from.key));
    }
    Ok(requests)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(flags: &[&str]) -> Policy {
        Policy::from_allow_flags(flags).unwrap()
    }

    #[test]
    fn a_move_needs_its_copy_and_its_delete() {
        let copy_only = policy(&["bkt/src/=read", "bkt/dst/=write"]);
        let refused = check(&copy_only, "s3://bkt/src/a", "s3://bkt/dst/").unwrap_err().to_string();
        assert!(refused.contains("DeleteObject s3://bkt/src/a needs 'delete'"), "{refused}");
        let download = check(&copy_only, "s3://bkt/src/a", "/tmp/x").unwrap_err().to_string();
        assert!(download.contains("needs 'delete'"), "{download}");
        let whole = policy(&["bkt/src/=read,delete", "bkt/dst/=write"]);
        assert!(check(&whole, "s3://bkt/src/a", "s3://bkt/dst/").is_ok());
        // The destination key is the one cp will write: dst/ takes the source's name.
        let named = policy(&["bkt/src/=read,delete", "bkt/dst/a=write"]);
        assert!(check(&named, "s3://bkt/src/a", "s3://bkt/dst/").is_ok());
        let upload = check(&named, "/tmp/file.txt", "s3://bkt/dst/").unwrap_err().to_string();
        assert!(upload.contains("PutObject s3://bkt/dst/file.txt needs 'write'"), "{upload}");
        let read = check(&policy(&["bkt/src/=delete", "bkt/dst/=write"]), "s3://bkt/src/a", "s3://bkt/dst/");
        assert!(read.unwrap_err().to_string().contains("copy source"));
    }
}
