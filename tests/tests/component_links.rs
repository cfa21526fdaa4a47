//! Would each built component link in the host it is meant for, and does it carry the contract
//! of `wit/`? Without running Spin or wasmCloud here, this compares what each component imports
//! (its embedded WIT, as `wasm-tools component wit` prints it) with what each host's world
//! provides (`tests/host_worlds/`, written from the hosts' sources), by wasmtime's matching rule:
//! a stable version serves any import of the same major.minor (major for 1.0 and later), a
//! pre-release only itself. The edge component (`wasi:config@0.2.0-rc.1`) must link in
//! `wasmtime serve` and wasmCloud and must not link in Spin; the edge-spin component
//! (`wasi:config@0.2.0-draft-2024-09-27`) must link in Spin 3. The WASI 0.3 edge components
//! (exporting `wasi:http/handler@0.3.0`): edge-p3 must link in `wasmtime serve -S p3`, and
//! edge-p3-spin in Spin 4's `spin:up/http-trigger@4.1.0`.
//!
//! The components are the ones `cargo build -p s3-connector-host` builds (host/build.rs), or
//! the prebuilt ones named by S3_CONNECTOR_PLUGIN_WASM, S3_CONNECTOR_EDGE_WASM,
//! S3_CONNECTOR_EDGE_SPIN_WASM, S3_CONNECTOR_EDGE_P3_WASM and S3_CONNECTOR_EDGE_P3_SPIN_WASM.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use wit_parser::decoding::{DecodedWasm, decode};
use wit_parser::{Resolve, WorldId, WorldItem};

/// The workspace root (the parent of this crate).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ lives in the workspace").to_path_buf()
}

/// A built component: the prebuilt one in `variable`, else the one under the target directory.
fn component_path(variable: &str, under_target: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(variable) {
        return PathBuf::from(path);
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace().join("target"), PathBuf::from);
    target.join(under_target)
}

fn edge() -> PathBuf {
    component_path("S3_CONNECTOR_EDGE_WASM", "plugin-edge/wasm32-wasip2/plugin/s3_connector_plugin.wasm")
}

fn edge_spin() -> PathBuf {
    component_path("S3_CONNECTOR_EDGE_SPIN_WASM", "plugin-edge/edge-spin.wasm")
}

fn edge_p3() -> PathBuf {
    component_path(
        "S3_CONNECTOR_EDGE_P3_WASM",
        "plugin-edge-p3/wasm32-wasip2/plugin/s3_connector_plugin.wasm",
    )
}

fn edge_p3_spin() -> PathBuf {
    component_path("S3_CONNECTOR_EDGE_P3_SPIN_WASM", "plugin-edge-p3/edge-p3-spin.wasm")
}

fn plugin() -> PathBuf {
    component_path("S3_CONNECTOR_PLUGIN_WASM", "plugin/wasm32-wasip2/plugin/s3_connector_plugin.wasm")
}

/// An interface name split at its version: `wasi:io/poll@0.2.12` -> (`wasi:io/poll`, 0.2.12).
fn split(name: &str) -> Result<(&str, semver::Version)> {
    let (base, version) = name.rsplit_once('@').with_context(|| format!("{name}: no @VERSION"))?;
    Ok((base, semver::Version::parse(version).with_context(|| format!("{name}: bad version"))?))
}

/// Wasmtime's rule (wasmtime::component::Linker, semver matching): equal versions match; a
/// pre-release matches nothing else; otherwise the same major for 1.0 and later, the same
/// 0.minor below 1.0, and 0.0.x only itself.
fn serves(provided: &semver::Version, wanted: &semver::Version) -> bool {
    if provided == wanted {
        return true;
    }
    if !provided.pre.is_empty() || !wanted.pre.is_empty() {
        return false;
    }
    match (provided.major, wanted.major) {
        (0, 0) => provided.minor == wanted.minor && provided.minor != 0,
        (a, b) => a == b,
    }
}

/// What a host provides (`import` lines) and calls (`export` lines), from a host-world file.
struct HostWorld {
    name: String,
    imports: Vec<String>,
    exports: Vec<String>,
}

fn host_world(file: &str) -> Result<HostWorld> {
    let path = workspace().join("tests/host_worlds").join(file);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut world = HostWorld { name: file.to_owned(), imports: Vec::new(), exports: Vec::new() };
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(' ') {
            Some(("import", name)) => world.imports.push(name.to_owned()),
            Some(("export", name)) => world.exports.push(name.to_owned()),
            _ => bail!(
                "{}:{}: `{line}` is not `import NAME@VERSION` or `export NAME@VERSION`",
                path.display(),
                number + 1
            ),
        }
        split(line.split_once(' ').map_or(line, |(_, name)| name))
            .with_context(|| format!("{}:{}", path.display(), number + 1))?;
    }
    Ok(world)
}

/// A component's world as its embedded WIT gives it.
fn component_world(path: &Path) -> Result<(Resolve, WorldId)> {
    let bytes = std::fs::read(path).with_context(|| {
        format!("reading {} (cargo build -p s3-connector-host builds it)", path.display())
    })?;
    match decode(&bytes).with_context(|| format!("decoding {}", path.display()))? {
        DecodedWasm::Component(resolve, world) => Ok((resolve, world)),
        DecodedWasm::WitPackage(..) => bail!("{} is a WIT package, not a component", path.display()),
    }
}

/// The component's imported and exported interfaces, with versions (`wasi:io/poll@0.2.12`).
fn interfaces(resolve: &Resolve, world: WorldId) -> (Vec<String>, Vec<String>) {
    let names = |items: &mut dyn Iterator<Item = &WorldItem>| {
        items
            .filter_map(|item| match item {
                WorldItem::Interface { id, .. } => resolve.id_of(*id),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let world = &resolve.worlds[world];
    (names(&mut world.imports.values()), names(&mut world.exports.values()))
}

/// The component's interfaces that `host` does not serve, each with the reason.
fn unlinked(component: &Path, host: &HostWorld) -> Result<Vec<String>> {
    let (resolve, world) = component_world(component)?;
    let (imports, exports) = interfaces(&resolve, world);
    let mut missing = Vec::new();
    for (wanted, offered, what) in [(&imports, &host.imports, "import"), (&exports, &host.exports, "export")]
    {
        for name in wanted {
            let (base, version) = split(name)?;
            let same_name: Vec<&String> =
                offered.iter().filter(|o| o.rsplit_once('@').is_some_and(|(b, _)| b == base)).collect();
            let matched = same_name.iter().any(|o| split(o).is_ok_and(|(_, v)| serves(&v, &version)));
            if !matched {
                missing.push(if same_name.is_empty() {
                    format!("{what} {name}: {} has no {base}", host.name)
                } else {
                    // Why the versions differ: a pre-release on either side, else another 0.minor.
                    let pre_release = !version.pre.is_empty()
                        || same_name.iter().any(|o| split(o).is_ok_and(|(_, v)| !v.pre.is_empty()));
                    let why = if pre_release {
                        "a pre-release matches only itself"
                    } else {
                        "another 0.minor is another API"
                    };
                    format!(
                        "{what} {name}: {} has {} ({why})",
                        host.name,
                        same_name.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    )
                });
            }
        }
    }
    Ok(missing)
}

#[test]
fn the_matching_rule_is_wasmtimes() {
    let v = |s: &str| semver::Version::parse(s).unwrap();
    assert!(serves(&v("0.2.0"), &v("0.2.12")), "a host's 0.2.0 serves 0.2.12");
    assert!(serves(&v("0.2.12"), &v("0.2.6")));
    assert!(!serves(&v("0.3.0"), &v("0.2.12")), "another 0.minor is another API");
    assert!(serves(&v("1.4.0"), &v("1.0.0")));
    assert!(!serves(&v("0.2.0-rc.1"), &v("0.2.0-draft-2024-09-27")), "pre-releases match only themselves");
    assert!(serves(&v("0.2.0-rc.1"), &v("0.2.0-rc.1")));
    assert!(!serves(&v("0.2.0"), &v("0.2.0-rc.1")));
}

#[test]
fn the_edge_component_links_in_wasmtime_serve_and_wasmcloud() -> Result<()> {
    for host in ["wasmtime-serve-48.0.8.txt", "wasmcloud-wash-runtime.txt"] {
        let missing = unlinked(&edge(), &host_world(host)?)?;
        assert!(missing.is_empty(), "the edge component would not link in {host}:\n{}", missing.join("\n"));
    }
    Ok(())
}

#[test]
fn the_edge_component_does_not_link_in_spin_and_the_edge_spin_one_does() -> Result<()> {
    let spin = host_world("spin-3.6.txt")?;
    // The reason edge-spin exists: Spin's wasi:config is another pre-release.
    let missing = unlinked(&edge(), &spin)?;
    assert_eq!(
        missing,
        vec![
            "import wasi:config/store@0.2.0-rc.1: spin-3.6.txt has wasi:config/store@0.2.0-draft-2024-09-27 \
             (a pre-release matches only itself)"
                .to_owned()
        ]
    );
    let missing = unlinked(&edge_spin(), &spin)?;
    assert!(missing.is_empty(), "the edge-spin component would not link in Spin:\n{}", missing.join("\n"));
    // And edge-spin is not for the rc.1 hosts.
    let missing = unlinked(&edge_spin(), &host_world("wasmtime-serve-48.0.8.txt")?)?;
    assert_eq!(missing.len(), 1, "{missing:?}");
    Ok(())
}

#[test]
fn the_p3_edge_component_links_in_wasmtime_serve_p3_and_not_without_it() -> Result<()> {
    let missing = unlinked(&edge_p3(), &host_world("wasmtime-serve-p3-48.0.8.txt")?)?;
    assert!(
        missing.is_empty(),
        "the edge-p3 component would not link in serve -S p3:\n{}",
        missing.join("\n")
    );
    // A WASI 0.2 host has no wasi:http@0.3.0: neither its types nor a handler@0.3.0 to call.
    let missing = unlinked(&edge_p3(), &host_world("wasmtime-serve-48.0.8.txt")?)?;
    assert_eq!(
        missing,
        vec![
            "import wasi:http/types@0.3.0: wasmtime-serve-48.0.8.txt has wasi:http/types@0.2.12 \
             (another 0.minor is another API)"
                .to_owned(),
            "export wasi:http/handler@0.3.0: wasmtime-serve-48.0.8.txt has no wasi:http/handler".to_owned(),
        ]
    );
    // The p2 component still links under serve -S p3 (it falls back to the 0.2 handler).
    let missing = unlinked(&edge(), &host_world("wasmtime-serve-p3-48.0.8.txt")?)?;
    assert!(missing.is_empty(), "the edge component would not link in serve -S p3:\n{}", missing.join("\n"));
    Ok(())
}

#[test]
fn the_p3_edge_spin_component_links_in_spin_4_and_the_others_do_not() -> Result<()> {
    let spin = host_world("spin-4.1.txt")?;
    let missing = unlinked(&edge_p3_spin(), &spin)?;
    assert!(
        missing.is_empty(),
        "the edge-p3-spin component would not link in Spin 4.1:\n{}",
        missing.join("\n")
    );
    // edge-p3 has the rc.1 wasi:config, which Spin does not provide.
    let missing = unlinked(&edge_p3(), &spin)?;
    assert_eq!(
        missing,
        vec![
            "import wasi:config/store@0.2.0-rc.1: spin-4.1.txt has wasi:config/store@0.2.0-draft-2024-09-27 \
             (a pre-release matches only itself)"
                .to_owned()
        ]
    );
    // Spin 4's http-trigger world exports only the 0.3 handler: the WASI 0.2 edge-spin is for Spin 3.
    let missing = unlinked(&edge_spin(), &spin)?;
    assert_eq!(
        missing,
        vec![
            "export wasi:http/incoming-handler@0.2.12: spin-4.1.txt has no wasi:http/incoming-handler"
                .to_owned()
        ]
    );
    Ok(())
}

/// The functions of every interface of a world, by interface name with version: what
/// `wasm-tools component wit` shows of each.
fn functions(resolve: &Resolve, world: WorldId) -> BTreeMap<String, Vec<String>> {
    let world = &resolve.worlds[world];
    let mut all = BTreeMap::new();
    for (direction, items) in [("import", &world.imports), ("export", &world.exports)] {
        for item in items.values() {
            if let WorldItem::Interface { id, .. } = item {
                let interface = &resolve.interfaces[*id];
                let mut names: Vec<String> = interface.functions.keys().cloned().collect();
                names.sort();
                let name = resolve.id_of(*id).unwrap_or_default();
                all.insert(format!("{direction} {name}"), names);
            }
        }
    }
    all
}

#[test]
fn each_component_carries_the_world_of_wit() -> Result<()> {
    let mut contract = Resolve::default();
    let (package, _) = contract.push_dir(workspace().join("wit"))?;
    for (path, world) in [
        (plugin(), "plugin"),
        (edge(), "edge"),
        (edge_spin(), "edge-spin"),
        (edge_p3(), "edge-p3"),
        (edge_p3_spin(), "edge-p3-spin"),
    ] {
        let (resolve, built) = component_world(&path)?;
        let declared = contract.select_world(&[package], Some(world))?;
        let (built, declared) = (functions(&resolve, built), functions(&contract, declared));
        // A component imports the functions its code uses: of a WASI interface, some; of an
        // interface of types only (`types`), nothing, so it leaves no import. It imports the
        // WASI interfaces the Rust standard library uses besides (wasi:cli, wasi:random).
        // This package's own interfaces must be there whole, and nothing else of this package.
        for (name, got) in &built {
            let ours = name.contains(" s3-connector:");
            match declared.get(name) {
                Some(wanted) if ours => {
                    assert_eq!(got, wanted, "{}: {name} differs from wit/", path.display())
                }
                Some(wanted) => {
                    let extra: Vec<_> = got.iter().filter(|f| !wanted.contains(f)).collect();
                    assert!(extra.is_empty(), "{}: {name} has {extra:?}, not in wit/", path.display());
                }
                // Outside the world only what the standard library imports may appear.
                None => assert!(
                    ["wasi:cli/", "wasi:random/", "wasi:io/", "wasi:clocks/", "wasi:filesystem/"]
                        .iter()
                        .any(|std_import| name.starts_with(&format!("import {std_import}"))),
                    "{}: {name} is not in the world {world} of wit/",
                    path.display()
                ),
            }
        }
        for (name, wanted) in &declared {
            if name.contains(" s3-connector:") && !wanted.is_empty() && !built.contains_key(name) {
                bail!("{}: the world {world} of wit/ has {name}, the component does not", path.display());
            }
        }
    }
    Ok(())
}
