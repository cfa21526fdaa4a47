//! The `edge` worlds' HTTP front: routes ([`route`], pure), what each request is answered
//! ([`answer`], shared by every world), and the handler boundary of its `wasi:http`
//! ([`handler`], `wasi:http/incoming-handler@0.2.12`).

#[cfg(feature = "edge")]
pub mod answer;
#[cfg(feature = "edge")]
pub mod handler;
// Pure, so compiled (and unit-tested) in every build; only the edge build calls it.
#[cfg_attr(not(feature = "edge"), allow(dead_code))]
pub mod route;
