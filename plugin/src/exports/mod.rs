//! What the component exports: the typed client interface, JSON actions, and the edge world's
//! `wasi:http` handler. Each call enters here and goes down through transfers and operations.

pub mod actions;
#[cfg(not(feature = "edge"))]
pub mod client;
pub mod edge;
