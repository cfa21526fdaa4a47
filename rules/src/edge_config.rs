//! The `wasi:config` keys of the edge world: what a host gives the edge component for one
//! request (the reference host's `serve`, `wasmtime serve` with `-S config-var`, the Node
//! runner, Spin and wasmCloud manifests). The component reads them, the hosts write them; one
//! list keeps the two from drifting apart.

/// The S3 endpoint URL (`https://s3.eu-west-1.amazonaws.com`); without it, the region's.
pub const ENDPOINT: &str = "endpoint";
/// The signing region (default `us-east-1`).
pub const REGION: &str = "region";
/// `true` for path-style addressing (`https://host/bucket/key`).
pub const PATH_STYLE: &str = "path_style";
/// Attempts per request, retries included (the plugin's default when absent).
pub const MAX_ATTEMPTS: &str = "max_attempts";
/// The access key id of this request's credentials.
pub const ACCESS_KEY_ID: &str = "access_key_id";
/// The secret access key of this request's credentials (instead of a signing key).
pub const SECRET_ACCESS_KEY: &str = "secret_access_key";
/// The SigV4 signing key derived for `signing_date`, the region and `s3`, as 64 hex digits
/// (`s3-connector signing-key` prints one): given instead of the secret access key, it expires
/// with its day. The reference host's `serve` gives only this.
pub const SIGNING_KEY: &str = "signing_key";
/// The day `signing_key` signs for, `YYYYMMDD` (UTC).
pub const SIGNING_DATE: &str = "signing_date";
/// The session token of temporary credentials, if any.
pub const SESSION_TOKEN: &str = "session_token";
/// `requester` to send `x-amz-request-payer: requester` with every request.
pub const REQUEST_PAYER: &str = "request_payer";

/// Every key, in the order above.
pub const ALL: [&str; 10] = [
    ENDPOINT,
    REGION,
    PATH_STYLE,
    MAX_ATTEMPTS,
    ACCESS_KEY_ID,
    SECRET_ACCESS_KEY,
    SIGNING_KEY,
    SIGNING_DATE,
    SESSION_TOKEN,
    REQUEST_PAYER,
];
