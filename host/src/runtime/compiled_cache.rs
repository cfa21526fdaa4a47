//! The compiled plugin, cached on disk, so that a one-shot CLI call does not compile the
//! component with Cranelift every time (~0.15 s release, ~0.6 s debug).
//!
//! The cache file is keyed by the component's SHA-256 and the engine's compatibility hash
//! (wasmtime version, target, settings), so a different build never loads a stale artifact.
//! Loading compiled code is `unsafe` in wasmtime because a tampered file is native code: the
//! directory is created private to the user (0700) and files are written atomically. An existing
//! directory or file is trusted only as ssh trusts its keys: owned by this user, not a link, and
//! writable by nobody else; otherwise the cache is refused with a warning and the component is
//! compiled in memory.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// `S3_CONNECTOR_CACHE_DIR`, else `$XDG_CACHE_HOME/s3-connector`, else `~/.cache/s3-connector`;
/// `S3_CONNECTOR_CACHE_DIR=off` disables the cache.
pub fn cache_dir(lookup: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    match lookup("S3_CONNECTOR_CACHE_DIR").filter(|v| !v.is_empty()) {
        Some(off) if off == "off" => None,
        Some(dir) => Some(PathBuf::from(dir)),
        None => lookup("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| lookup("HOME").filter(|v| !v.is_empty()).map(|home| Path::new(&home).join(".cache")))
            .map(|base| base.join("s3-connector")),
    }
}

/// The file name of `wasm` compiled by `engine`.
fn artifact_name(engine: &Engine, wasm: &[u8]) -> String {
    // DefaultHasher::new() has fixed keys: stable for one build, which is all the key needs.
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut engine_hash);
    let digest = Sha256::digest(wasm);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("plugin-{hex}-{:016x}.cwasm", engine_hash.finish())
}

/// The compiled component: from the cache when it holds it, else compiled and stored. Any
/// cache failure falls back to compiling in memory.
pub fn load(engine: &Engine, wasm: &[u8], dir: Option<&Path>) -> wasmtime::Result<Component> {
    let Some(dir) = dir else { return Component::new(engine, wasm) };
    if let Some(why) = distrust(dir) {
        eprintln!(
            "s3-connector: warning: not using the compiled-code cache {}: {why}; compiling in memory (fix \
             it with chmod 700, or set S3_CONNECTOR_CACHE_DIR)",
            dir.display()
        );
        return Component::new(engine, wasm);
    }
    let path = dir.join(artifact_name(engine, wasm));
    match distrust(&path) {
        None if path.is_file() => {
            // SAFETY: the file is this user's, writable by no one else, in a directory that is too,
            // under a name that includes the component's hash and the engine's compatibility hash.
            if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
                return Ok(component);
            }
        }
        Some(why) if path.symlink_metadata().is_ok() => eprintln!(
            "s3-connector: warning: not loading the compiled code {}: {why}; replacing it",
            path.display()
        ),
        _ => {}
    }
    let compiled = engine.precompile_component(wasm)?;
    // The cache is an optimisation: failing to write it changes nothing else.
    let _ = store(dir, &path, &compiled);
    // SAFETY: these bytes were produced by `precompile_component` of this engine just now.
    unsafe { Component::deserialize(engine, &compiled) }
}

/// Why `path` (an existing cache directory or file) must not be trusted; `None` when it is
/// missing or trusted.
fn distrust(path: &Path) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let metadata = path.symlink_metadata().ok()?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        untrusted(metadata.file_type().is_symlink(), metadata.uid(), metadata.mode(), me)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// The decision on plain data: a link, another owner, or write access for group or others is
/// refused.
fn untrusted(is_link: bool, owner: u32, mode: u32, me: u32) -> Option<&'static str> {
    if is_link {
        Some("it is a symbolic link")
    } else if owner != me {
        Some("it belongs to another user")
    } else if mode & 0o022 != 0 {
        Some("its group or other users may write it")
    } else {
        None
    }
}

fn store(dir: &Path, path: &Path, compiled: &[u8]) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut file, compiled)?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_directory_follows_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        };
        assert_eq!(
            cache_dir(env(&[("S3_CONNECTOR_CACHE_DIR", "/c"), ("HOME", "/h")])),
            Some(PathBuf::from("/c"))
        );
        assert_eq!(cache_dir(env(&[("S3_CONNECTOR_CACHE_DIR", "off"), ("HOME", "/h")])), None);
        assert_eq!(
            cache_dir(env(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/s3-connector"))
        );
        assert_eq!(cache_dir(env(&[("HOME", "/h")])), Some(PathBuf::from("/h/.cache/s3-connector")));
        assert_eq!(cache_dir(env(&[])), None);
    }

    #[test]
    fn only_a_private_cache_of_this_user_is_trusted() {
        let table: &[(bool, u32, u32, Option<&str>)] = &[
            (false, 1000, 0o40700, None),
            (false, 1000, 0o100600, None),
            (false, 1000, 0o100644, None),
            (false, 1000, 0o40777, Some("group or other users may write")),
            (false, 1000, 0o40720, Some("group or other users may write")),
            (false, 1000, 0o100602, Some("group or other users may write")),
            (false, 0, 0o40700, Some("another user")),
            (true, 1000, 0o120777, Some("symbolic link")),
        ];
        for (is_link, owner, mode, why) in table {
            let got = untrusted(*is_link, *owner, *mode, 1000);
            match why {
                None => assert_eq!(got, None, "{mode:o}"),
                Some(fragment) => assert!(got.is_some_and(|g| g.contains(fragment)), "{mode:o}: {got:?}"),
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_file_in_an_open_directory_is_never_loaded() {
        use std::os::unix::fs::PermissionsExt;
        let engine = Engine::default();
        let wasm = wat::parse_str("(component)").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        std::fs::create_dir(&cache).unwrap();
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
        let planted = cache.join(artifact_name(&engine, &wasm));
        std::fs::write(&planted, b"planted").unwrap();
        load(&engine, &wasm, Some(&cache)).expect("compiled in memory instead");
        assert_eq!(std::fs::read(&planted).unwrap(), b"planted", "the open directory is not used at all");
        // In a private directory, a file others may write is replaced, not loaded.
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o666)).unwrap();
        load(&engine, &wasm, Some(&cache)).unwrap();
        assert_ne!(std::fs::read(&planted).unwrap(), b"planted", "replaced by freshly compiled code");
        let mode = std::fs::metadata(&planted).unwrap().permissions().mode();
        assert_eq!(mode & 0o022, 0, "{mode:o}");
    }

    #[test]
    fn a_compiled_component_is_stored_then_loaded() {
        let engine = Engine::default();
        // The smallest component: enough to exercise compile, store and load.
        let wasm = wat::parse_str("(component)").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        load(&engine, &wasm, Some(&cache)).unwrap();
        let files: Vec<_> = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(files.len(), 1, "{files:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777, 0o700);
        }
        load(&engine, &wasm, Some(&cache)).unwrap();
        // A corrupt artifact is ignored and replaced.
        std::fs::write(cache.join(&files[0]), b"not compiled code").unwrap();
        load(&engine, &wasm, Some(&cache)).unwrap();
        assert_ne!(std::fs::read(cache.join(&files[0])).unwrap(), b"not compiled code");
    }
}
