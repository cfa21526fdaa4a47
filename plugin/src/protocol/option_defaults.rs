//! Options with nothing set (S3's defaults), for the front ends that build calls themselves
//! (JSON actions, the edge handler): `Default` for the generated records, as the host has it.

use crate::bindings::s3_connector::s3::types::{Conditions, CopyOptions, GetOptions, PutOptions};

s3_connector_rules::option_defaults!();
