//! The `edge` worlds' HTTP front: routes ([`route`], pure), what each request is answered
//! ([`answer`], shared by every world), and the handler boundary of each `wasi:http`:
//! [`handler`] for `wasi:http/incoming-handler@0.2.12` (`edge`, `edge-spin`) and
//! [`handler_p3`] for `wasi:http/handler@0.3.0` (`edge-p3`, `edge-p3-spin`).

#[cfg(feature = "edge")]
pub mod answer;
#[cfg(all(feature = "edge", not(feature = "p3")))]
pub mod handler;
#[cfg(feature = "p3")]
pub mod handler_p3;
// Pure, so compiled (and unit-tested) in every build; only the edge build calls it.
#[cfg_attr(not(feature = "edge"), allow(dead_code))]
pub mod route;
