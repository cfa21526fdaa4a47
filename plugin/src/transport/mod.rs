//! Getting a request to S3 and its answer back: the host's imports (credentials, settings),
//! SigV4 signing, `wasi:http` (bodies streamed, spliced or chunked), requests in flight side by
//! side, retries with backoff, and the client that puts them together for every request.

pub mod client;
pub mod host_imports;
pub mod in_flight;
pub mod pause;
pub mod range_sink;
pub mod range_source;
pub mod resumed_copy;
pub mod retry;
pub mod stream_copy;
pub mod wire;
