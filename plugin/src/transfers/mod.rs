//! Transfers of many requests: multipart uploads of a stream with parts side by side, downloads
//! in parallel ranges, copies of any size, and the plans that size their parts.

pub mod copy;
pub mod download;
pub mod multipart_upload;
pub mod parallel_parts;
pub mod parallel_ranges;
pub mod transfer_plan;
