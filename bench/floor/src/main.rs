//! Does nothing: a component whose instantiation costs only what any wasm32-wasip2 component
//! built by Rust costs (its core instances, memory, tables and WASI imports).

fn main() {}
