//! The plugin's modules are layers (see ARCHITECTURE.md): each imports only from the layers
//! below it. This reads the sources and fails on any `crate::` path, outside comments, that
//! names a higher layer, so that a change cannot quietly build a circle.

use std::path::Path;

/// The layers, from the bottom.
const LAYERS: &[&str] = &["protocol", "transport", "operations", "transfers", "exports"];

/// Every `.rs` file below `dir`.
fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn no_layer_imports_from_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    let mut checked = 0;
    for (level, layer) in LAYERS.iter().enumerate() {
        let mut files = Vec::new();
        sources(&src.join(layer), &mut files);
        assert!(!files.is_empty(), "the layer {layer} has no sources");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a readable source");
            for (number, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                for higher in &LAYERS[level + 1..] {
                    if code.contains(&format!("crate::{higher}")) {
                        violations.push(format!("{}:{}: {}", file.display(), number + 1, line.trim()));
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} files were read");
    assert!(violations.is_empty(), "imports from a higher layer:\n{}", violations.join("\n"));
}
