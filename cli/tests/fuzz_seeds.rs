//! The committed seed corpus of `fuzz/` through the fuzz target bodies of the library and the CLI, on the stable
//! toolchain: the targets' invariants hold on every seed (cargo-fuzz explores from there).

use std::path::Path;

use s3_connector_host::fuzzing;

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .collect();
    assert!(seeds.len() >= 3, "{target}: {} seeds", seeds.len());
    seeds
}

#[test]
fn address_parser_seeds_keep_their_invariants() {
    for seed in seeds("s3_address") {
        fuzzing::s3_address(&seed);
    }
}

#[test]
fn policy_config_seeds_keep_their_invariants() {
    for seed in seeds("policy_config") {
        fuzzing::policy_config(&seed);
        s3_connector_cli::fuzzing::config_file(&seed);
    }
    // The round-trip invariant is live: a rule that parses shows as itself.
    fuzzing::policy_config(b"photos/in/=write,read");
}
