//! `s3-connector serve-token add`: makes a client token for a tenant of a `serve --tenants`
//! file, prints it once, and stores only its SHA-256. The token is appended as a `[[token]]`
//! table, so the operator's comments and layout stay; the file is checked before and after,
//! and replaced whole (a running server never reads half of it).

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;

use s3_connector_host::error::Error;
use s3_connector_serve::tenants_file;

/// What to do with tokens.
#[derive(clap::Subcommand)]
pub enum Action {
    /// Make a new token for TENANT, print it once on stdout, and store its hash in FILE.
    Add {
        /// The tenants file.
        #[arg(long, value_name = "FILE")]
        tenants: PathBuf,
        /// The tenant the token selects.
        #[arg(long, value_name = "NAME")]
        tenant: String,
    },
}

/// Runs `action`.
pub fn run(action: &Action) -> Result<(), Error> {
    match action {
        Action::Add { tenants, tenant } => add(tenants, tenant),
    }
}

fn add(path: &Path, tenant: &str) -> Result<(), Error> {
    let usage = |e: tenants_file::TenantsFileError| Error::Usage(e.to_string());
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("cannot read the tenants file {}: {e}", path.display())))?;
    let specs = tenants_file::parse(path, &text).map_err(usage)?;
    if !specs.iter().any(|spec| spec.name == tenant) {
        let names: Vec<&str> = specs.iter().map(|spec| spec.name.as_str()).collect();
        return Err(Error::Usage(format!(
            "the tenants file {} has no tenant {tenant:?} (it has {})",
            path.display(),
            names.join(", ")
        )));
    }
    let token = new_token();
    let hash = tenants_file::hex(&tenants_file::token_hash(&token));
    let separator = if text.is_empty() || text.ends_with('\n') { "" } else { "\n" };
    let updated = format!("{text}{separator}\n[[token]]\ntenant = \"{tenant}\"\nsha256 = \"{hash}\"\n");
    tenants_file::parse(path, &updated).map_err(usage)?;
    replace(path, &updated)
        .map_err(|e| Error::local_io(format!("cannot write the tenants file {}", path.display()), e))?;
    println!("{token}");
    eprintln!(
        "s3-connector: a token for tenant {tenant} was added to {} (only its SHA-256 is stored; this is the \
         one time it is shown)",
        path.display()
    );
    Ok(())
}

/// 32 random bytes as 64 hex digits, after a prefix that says what the token is for (so a
/// secret scanner can find a leaked one).
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("s3c_{}", tenants_file::hex(&bytes))
}

/// Writes `text` to a file beside `path`, with `path`'s permissions, then renames it over
/// `path`.
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let directory = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut temporary = tempfile::NamedTempFile::new_in(directory)?;
    temporary.write_all(text.as_bytes())?;
    temporary.as_file().sync_all()?;
    let permissions = std::fs::metadata(path)?.permissions();
    std::fs::set_permissions(temporary.path(), permissions)?;
    temporary.persist(path).map_err(|e| e.error)?;
    Ok(())
}
