//! The `edge` worlds' HTTP front: routes ([`route`], pure), what each request is answered
//! ([`answer`], shared by every world), and the handler boundary of each `wasi:http`:
//! [`handler`] for `wasi:http/incoming-handler@0.2.12` (`edge`, `edge-spin`) and
//! [`handler_p3`] for `wasi:http/handler@0.3.0` (`edge-p3`, `edge-p3-spin`).

/// The name of a `wasi:http` method: both versions' generated `Method` enums (`$Method`, in
/// scope) have the same cases, so one match serves the 0.2 and the 0.3 handler.
#[cfg(feature = "edge")]
macro_rules! method_name {
    ($Method:ident, $method:expr) => {
        match $method {
            $Method::Get => "GET".to_owned(),
            $Method::Head => "HEAD".to_owned(),
            $Method::Put => "PUT".to_owned(),
            $Method::Post => "POST".to_owned(),
            $Method::Delete => "DELETE".to_owned(),
            $Method::Connect => "CONNECT".to_owned(),
            $Method::Options => "OPTIONS".to_owned(),
            $Method::Trace => "TRACE".to_owned(),
            $Method::Patch => "PATCH".to_owned(),
            $Method::Other(name) => name,
        }
    };
}

#[cfg(feature = "edge")]
pub mod answer;
#[cfg(all(feature = "edge", not(feature = "p3")))]
pub mod handler;
#[cfg(feature = "p3")]
pub mod handler_p3;
// Pure, so compiled (and unit-tested) in every build; only the edge build calls it.
#[cfg_attr(not(feature = "edge"), allow(dead_code))]
pub mod route;
