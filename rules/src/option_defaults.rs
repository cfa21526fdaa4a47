//! The contract's option records with nothing set mean S3's defaults. The WIT records have no
//! `Default`, and each side of the wall has its own generated types, so the defaults are written
//! once here as a macro and applied to both (the host's public `types`, the plugin's front ends).

/// Implements `Default` (every field unset) for the generated `Conditions`, `GetOptions`,
/// `PutOptions` and `CopyOptions`, which must be in scope.
#[macro_export]
macro_rules! option_defaults {
    () => {
        /// No conditions.
        impl Default for Conditions {
            fn default() -> Self {
                Self {
                    if_match: None,
                    if_none_match: None,
                    if_modified_since: None,
                    if_unmodified_since: None,
                }
            }
        }

        /// A whole-object GET of the current version.
        impl Default for GetOptions {
            fn default() -> Self {
                Self {
                    range: None,
                    version_id: None,
                    conditions: Conditions::default(),
                    customer_key: None,
                    parallel_ranges: None,
                    range_size: None,
                }
            }
        }

        /// A PUT with S3's defaults.
        impl Default for PutOptions {
            fn default() -> Self {
                Self {
                    content_type: None,
                    metadata: Vec::new(),
                    content_disposition: None,
                    cache_control: None,
                    content_encoding: None,
                    storage_class: None,
                    tags: Vec::new(),
                    encryption: None,
                    conditions: Conditions::default(),
                    checksum: None,
                    multipart_threshold: None,
                    part_size: None,
                    parallel_parts: None,
                }
            }
        }

        /// A copy that carries the source's metadata over, without conditions on the source.
        impl Default for CopyOptions {
            fn default() -> Self {
                Self { source_conditions: Conditions::default(), metadata: None, content_type: None }
            }
        }
    };
}
