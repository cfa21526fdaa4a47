//! Builds the plugin component for wasm32-wasip2, so that `cargo build` and `cargo test` of the
//! host are single commands. The component is embedded in the host with `include_bytes!`.
//!
//! It builds five components from the plugin crate: the `plugin` world (`target/plugin`), the
//! `edge` world (feature `edge`, `target/plugin-edge`), the `edge-spin` world for Spin 3
//! (feature `spin`, copied to `target/plugin-edge/edge-spin.wasm`), and the WASI 0.3 edge: the
//! `edge-p3` world (feature `p3`, `target/plugin-edge-p3`) and `edge-p3-spin` for Spin 4
//! (features `p3,spin`, copied to `target/plugin-edge-p3/edge-p3-spin.wasm`). `plugin`, `edge`
//! and `edge-p3` are embedded; the Spin ones are not (the link checks and the examples use
//! them). The nested cargo uses its own target
//! directories, so it never waits on the lock of the outer build, and the `plugin` profile
//! (opt-level "s", LTO, strip) whatever the host's profile: a debug host still loads a small,
//! fast component.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.parent().expect("host/ lives in the workspace").to_path_buf();
    // The root manifest holds the `plugin` profile; Cargo.lock the versions.
    for watched in [
        "plugin/src",
        "plugin/Cargo.toml",
        "rules/src",
        "rules/Cargo.toml",
        "wit",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=S3_CONNECTOR_PLUGIN_WASM");
    println!("cargo:rerun-if-env-changed=S3_CONNECTOR_EDGE_WASM");
    println!("cargo:rerun-if-env-changed=S3_CONNECTOR_EDGE_SPIN_WASM");
    println!("cargo:rerun-if-env-changed=S3_CONNECTOR_EDGE_P3_WASM");
    println!("cargo:rerun-if-env-changed=S3_CONNECTOR_EDGE_P3_SPIN_WASM");
    let target_root = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace.join("target"),
    };
    // The edge-spin build shares the edge build's target directory (the same dependencies, only
    // the plugin crate differs), so it goes first and is copied aside: the edge build then puts
    // its own component back at the path the scripts use. The p3 pair shares its own directory
    // the same way (wit-bindgen's async runtime makes its dependencies differ from the p2 ones).
    set_aside(
        &workspace,
        &target_root,
        "S3_CONNECTOR_EDGE_SPIN_WASM",
        "plugin-edge",
        "spin",
        "edge-spin.wasm",
    );
    set_aside(
        &workspace,
        &target_root,
        "S3_CONNECTOR_EDGE_P3_SPIN_WASM",
        "plugin-edge-p3",
        "p3,spin",
        "edge-p3-spin.wasm",
    );
    // Three components embedded from one crate: the `plugin` world, the `edge` world (feature
    // `edge`) and the `edge-p3` world (feature `p3`, which `serve --edge p3` runs), each in its
    // own target directory since all are named s3_connector_plugin.wasm.
    for (variable, features, dir) in [
        ("S3_CONNECTOR_PLUGIN_WASM", None, "plugin"),
        ("S3_CONNECTOR_EDGE_WASM", Some("edge"), "plugin-edge"),
        ("S3_CONNECTOR_EDGE_P3_WASM", Some("p3"), "plugin-edge-p3"),
    ] {
        // A prebuilt component (for example from CI's cache) skips the nested build.
        let wasm = match std::env::var_os(variable) {
            Some(prebuilt) => PathBuf::from(prebuilt),
            None => build_component(&workspace, &target_root.join(dir), features),
        };
        embed(&wasm, variable);
    }
}

/// Builds the component of `features` in `dir` (unless `variable` names a prebuilt one) and
/// copies it to `dir/copy_name`, since the next build in the same directory overwrites it.
fn set_aside(
    workspace: &Path,
    target_root: &Path,
    variable: &str,
    dir: &str,
    features: &str,
    copy_name: &str,
) {
    let built = match std::env::var_os(variable) {
        Some(prebuilt) => PathBuf::from(prebuilt),
        None => build_component(workspace, &target_root.join(dir), Some(features)),
    };
    let copy = target_root.join(dir).join(copy_name);
    if built != copy {
        if let Some(parent) = copy.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        }
        std::fs::copy(&built, &copy)
            .unwrap_or_else(|e| panic!("cannot copy the {copy_name} component to {}: {e}", copy.display()));
    }
}

/// Builds the plugin crate for wasm32-wasip2 with `features` into `target_dir`.
fn build_component(workspace: &Path, target_dir: &Path, features: Option<&str>) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    // `cargo rustc --crate-type cdylib`, not `cargo build`: the crate is also an rlib (for the
    // fuzz targets), and rustc skips LTO when one of the crate types is an rlib; the cdylib
    // alone gets the profile's fat LTO, 162,600 bytes less (bench/SIZE.md).
    command
        .current_dir(workspace)
        .args([
            "rustc",
            "--package",
            "s3-connector-plugin",
            "--lib",
            "--crate-type",
            "cdylib",
            "--target",
            "wasm32-wasip2",
            "--profile",
            "plugin",
        ])
        .arg("--target-dir")
        .arg(target_dir);
    if let Some(features) = features {
        command.args(["--features", features]);
    }
    // The outer build's settings are for the host, not for the wasm target.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let keep = name == "CARGO_HOME" || name == "CARGO_MAKEFLAGS" || name == "CARGO_NET_OFFLINE";
        if (name.starts_with("CARGO_") && !keep) || name == "RUSTFLAGS" || name.starts_with("RUSTC_") {
            command.env_remove(name.as_ref());
        }
    }
    ensure_wasm_target();
    let output = command.output().unwrap_or_else(|e| panic!("cannot run cargo to build the plugin: {e}"));
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("wasm32-wasip2")
            && (stderr.contains("not installed") || stderr.contains("can't find crate"))
        {
            panic!(
                "the wasm32-wasip2 target is missing, and the plugin needs it.\n\
                 Install it with: rustup target add wasm32-wasip2\n\n{stderr}"
            );
        }
        panic!("building the plugin (s3-connector-plugin for wasm32-wasip2) failed:\n{stderr}");
    }
    target_dir.join("wasm32-wasip2").join("plugin").join("s3_connector_plugin.wasm")
}

/// A fresh machine has the toolchain but not always its wasm32-wasip2 standard library (rustup
/// installs the targets of rust-toolchain.toml only with the toolchain itself). Add it once,
/// so that the README's first commands work as they are.
fn ensure_wasm_target() {
    let sysroot = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let installed = sysroot.is_some_and(|root| root.join("lib/rustlib/wasm32-wasip2").is_dir());
    if installed {
        return;
    }
    println!(
        "cargo:warning=installing the wasm32-wasip2 target with rustup (needed once to build the plugin)"
    );
    let added = Command::new("rustup").args(["target", "add", "wasm32-wasip2"]).status();
    if !added.is_ok_and(|status| status.success()) {
        panic!(
            "the wasm32-wasip2 target is missing and rustup could not add it; run: rustup target add wasm32-wasip2"
        );
    }
}

/// Copies `wasm` into OUT_DIR and names it in `{variable}_PATH` for `include_bytes!`.
fn embed(wasm: &Path, variable: &str) {
    let name = format!("{}.wasm", variable.to_ascii_lowercase());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join(name);
    std::fs::copy(wasm, &out)
        .unwrap_or_else(|e| panic!("cannot copy the component from {}: {e}", wasm.display()));
    println!("cargo:rustc-env={variable}_PATH={}", out.display());
}
