//! The bodies of the fuzz targets in `fuzz/` (not a supported API): the plugin's parsers of
//! what it does not control, S3's XML answers and the engine's JSON requests. They live here so
//! that the normal build compiles them and the committed corpus runs through them in a normal
//! test (`fuzz_seeds_run_through_every_parser`); the fuzz targets only call them.

use crate::exports::actions;
use crate::protocol::s3_error::{Subject, from_response};
use crate::protocol::xml;

/// Every XML response parser, and the error mapping, on one body: none may panic.
pub fn xml_responses(data: &[u8]) {
    let body = String::from_utf8_lossy(data);
    let _ = xml::error_body(&body);
    let _ = xml::list_buckets(&body);
    let _ = xml::list_objects_v2(&body);
    let _ = xml::initiate_multipart_upload(&body);
    let _ = xml::complete_multipart_upload(&body);
    let _ = xml::copy_object(&body);
    let _ = xml::delete_result(&body);
    let _ = xml::tagging(&body);
    let _ = xml::bucket_location(&body);
    let _ = xml::copy_part(&body);
    let _ = xml::list_multipart_uploads(&body);
    let _ = xml::list_parts(&body);
    let _ = xml::list_versions(&body);
    let subject = Subject { bucket: Some("bkt"), key: Some("k") };
    for status in [200, 301, 400, 403, 404, 412, 500, 503] {
        let _ = from_response(status, None, &body, subject);
    }
}

/// The JSON action parser: any text gives an action or an error, never a panic.
pub fn json_action(data: &[u8]) {
    let _ = actions::parse_request(&String::from_utf8_lossy(data));
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The committed seeds of `fuzz/corpus/` run through their targets' bodies.
    #[test]
    fn fuzz_seeds_run_through_every_parser() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
        for (target, body) in
            [("xml_responses", super::xml_responses as fn(&[u8])), ("json_action", super::json_action)]
        {
            let seeds: Vec<_> =
                std::fs::read_dir(corpus.join(target)).unwrap().map(|e| e.unwrap().path()).collect();
            assert!(seeds.len() >= 3, "{target}: {} seeds", seeds.len());
            for seed in seeds {
                body(&std::fs::read(&seed).unwrap());
            }
        }
    }
}
