//! Builds the floor component (`floor/`, a wasm32-wasip2 program that does nothing) into
//! OUT_DIR for the instantiation benchmark, with the same toolchain as the plugin.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let floor = manifest_dir.join("floor");
    println!("cargo:rerun-if-changed={}", floor.join("src").display());
    println!("cargo:rerun-if-changed={}", floor.join("Cargo.toml").display());
    let target_dir = out_dir.join("floor-target");
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .current_dir(&floor)
        .args(["build", "--release", "--target", "wasm32-wasip2", "--target-dir"])
        .arg(&target_dir);
    // The outer build's settings are for the bench, not for the wasm target.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let keep = name == "CARGO_HOME" || name == "CARGO_MAKEFLAGS" || name == "CARGO_NET_OFFLINE";
        if (name.starts_with("CARGO_") && !keep) || name == "RUSTFLAGS" || name.starts_with("RUSTC_") {
            command.env_remove(name.as_ref());
        }
    }
    let output = command.output().expect("cargo runs");
    assert!(
        output.status.success(),
        "building the floor component failed (rustup target add wasm32-wasip2?):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let wasm = target_dir.join("wasm32-wasip2/release/s3-connector-bench-floor.wasm");
    println!("cargo:rustc-env=S3_CONNECTOR_BENCH_FLOOR_WASM={}", wasm.display());
}
