//! What keeps secrets out of everything the host prints, in one place: the [`Secret`] type that
//! never shows itself, the redaction of URLs that carry authority ([`redact`]: presigned URLs'
//! signatures, userinfo passwords) and the scrubbing of handed-out secrets from text a guest or
//! a server wrote ([`scrub`]).

pub mod redact;
pub mod scrub;
mod secret;

pub use secret::Secret;
