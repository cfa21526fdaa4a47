//! S3's formats, without I/O: XML bodies, error answers, object and checksum headers, the
//! `aws-chunked` encoding, dates, addressing. Pure, and tested natively.

pub mod aws_chunked;
pub mod checked_names;
pub mod checksum;
pub mod checksum_headers;
pub mod crc;
pub mod endpoint;
pub mod http_date;
pub mod object_headers;
pub mod option_defaults;
pub mod response_validation;
pub mod s3_error;
pub mod xml;
