//! The `edge` world's HTTP front: routes ([`route`], pure) and the incoming handler
//! ([`handler`], built with the `edge` feature).

#[cfg(feature = "edge")]
pub mod handler;
// Pure, so compiled (and unit-tested) in every build; only the edge build calls it.
#[cfg_attr(not(feature = "edge"), allow(dead_code))]
pub mod route;
