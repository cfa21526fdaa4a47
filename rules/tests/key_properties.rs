//! Properties of key and query encoding: whatever the key, the host decodes exactly what the
//! plugin encoded, and the encoding never introduces a separator of its own.

use proptest::prelude::*;
use s3_connector_rules::{decode_path, encode_key, encode_query_component, validate_bucket_name};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn keys_round_trip_through_their_path_encoding(key in any::<String>()) {
        let encoded = encode_key(&key);
        prop_assert_eq!(decode_path(&encoded), Some(key.clone()));
        // Unreserved characters, `/` and escapes only: nothing a server reads as a query,
        // fragment or another segment separator.
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~/%".contains(&b)), "{}", encoded);
        prop_assert_eq!(encoded.split('/').count(), key.split('/').count());
    }

    #[test]
    fn query_components_round_trip_and_never_hold_a_separator(value in any::<String>()) {
        let encoded = encode_query_component(&value);
        prop_assert_eq!(decode_path(&encoded), Some(value));
        prop_assert!(!encoded.contains(['/', '&', '=', '+', '#', '?']), "{}", encoded);
    }

    #[test]
    fn names_the_rules_accept_are_lower_case_dns_labels(name in "[a-z0-9.-]{1,70}") {
        if validate_bucket_name(&name).is_ok() {
            prop_assert!((3..=63).contains(&name.len()), "{}", name);
            prop_assert!(!name.contains("..") && !name.starts_with(['.', '-']) && !name.ends_with(['.', '-']), "{}", name);
            prop_assert!(name.parse::<std::net::Ipv4Addr>().is_err(), "{}", name);
        }
    }
}
