//! The tenants `serve` answers: a table swapped whole ([`arc_swap`]) when the tenants file
//! changes, so that a request keeps the tenant (policy, credentials, limits) it was admitted
//! with until it ends, and a new request sees either the old table or the new one, never a mix.
//!
//! A request's bearer token selects its tenant: the token's SHA-256 is compared with every
//! stored hash, each comparison in constant time and none skipped, so neither the time taken nor
//! the order of the file tells an attacker how close a guess came.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use sha2::{Digest, Sha256};

use super::auth::ClientAuth;
use super::metrics::{Metrics, ReloadLabels};
use super::tenant_admission::TenantAdmission;
use super::tenant_connector::{self, TenantBase};
use super::tenants_file::{self, TenantLimits, TenantSpec, TenantsFileError};
use s3_connector_host::connector::Connector;

/// One tenant as the server runs it.
#[derive(Debug)]
pub struct Tenant {
    /// Its name (audit records, metrics, logs).
    pub name: String,
    /// Its connector: the tenant's policy, credentials and audit.
    pub connector: Connector,
    /// Its limits' counters.
    pub admission: Arc<TenantAdmission>,
}

/// Every tenant, and which token selects which.
#[derive(Debug)]
pub struct TenantTable {
    tenants: Vec<Arc<Tenant>>,
    /// A token's hash and the index of its tenant.
    tokens: Vec<([u8; 32], usize)>,
    /// `--insecure-no-auth`: every request is the first tenant's.
    open: bool,
}

impl TenantTable {
    /// The tenants, in the file's order.
    pub fn tenants(&self) -> &[Arc<Tenant>] {
        &self.tenants
    }

    /// The tenant a request with this `Authorization` header value belongs to, if any.
    pub fn select(&self, authorization: Option<&[u8]>) -> Option<Arc<Tenant>> {
        if self.open {
            return self.tenants.first().cloned();
        }
        let token = authorization?.strip_prefix(b"Bearer ")?;
        // An empty token never matches, whatever hash the file holds.
        if token.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let hash: [u8; 32] = Sha256::digest(token).into();
        let mut found = None;
        for (stored, index) in &self.tokens {
            if constant_time_eq(stored, &hash) {
                found = Some(*index);
            }
        }
        found.and_then(|index| self.tenants.get(index).cloned())
    }

    /// One tenant, `default` unless the connector names another, for `--token` (or
    /// `--insecure-no-auth`).
    fn single(connector: Connector, auth: &ClientAuth) -> Self {
        let (tokens, open) = match auth {
            ClientAuth::Bearer(token) => (vec![(tenants_file::token_hash(token.expose()), 0)], false),
            ClientAuth::None => (Vec::new(), true),
        };
        let tenant = Tenant {
            name: connector.tenant().to_owned(),
            connector,
            admission: TenantAdmission::new(TenantLimits::default()),
        };
        Self { tenants: vec![Arc::new(tenant)], tokens, open }
    }

    /// The table of `specs`; a tenant whose limits did not change keeps its counters from
    /// `previous`.
    fn build(
        specs: &[TenantSpec],
        base: &TenantBase,
        metrics: &Arc<Metrics>,
        previous: Option<&TenantTable>,
        path: &Path,
    ) -> Result<Self, TenantsFileError> {
        let mut tenants = Vec::with_capacity(specs.len());
        let mut tokens = Vec::new();
        for (index, spec) in specs.iter().enumerate() {
            let connector =
                tenant_connector::build(base, spec, metrics).map_err(|reason| TenantsFileError {
                    path: path.to_owned(),
                    line: Some(spec.line),
                    reason: format!("tenant {:?}: {reason}", spec.name),
                })?;
            let kept = previous
                .and_then(|table| table.tenants.iter().find(|t| t.name == spec.name))
                .filter(|t| *t.admission.limits() == spec.limits)
                .map(|t| t.admission.clone());
            let admission = kept.unwrap_or_else(|| TenantAdmission::new(spec.limits));
            tenants.push(Arc::new(Tenant { name: spec.name.clone(), connector, admission }));
            tokens.extend(spec.token_hashes.iter().map(|hash| (*hash, index)));
        }
        Ok(Self { tenants, tokens, open: false })
    }
}

/// Compares without an early exit.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |difference, (x, y)| difference | (x ^ y)) == 0
}

/// The server's tenants: the table in force, where it was read from, and the metrics every
/// tenant's connector reports to. Cheap to clone; every clone sees the same table.
#[derive(Clone, Debug)]
pub struct Tenants {
    table: Arc<ArcSwap<TenantTable>>,
    metrics: Arc<Metrics>,
    file: Option<Arc<(PathBuf, TenantBase)>>,
}

impl Tenants {
    /// One tenant with `connector` and `auth` (the `--token` shorthand).
    pub fn single(connector: Connector, auth: &ClientAuth) -> Self {
        let metrics = Arc::new(Metrics::default());
        let connector = tenant_connector::with_metrics(connector, &metrics);
        let table = TenantTable::single(connector, auth);
        Self { table: Arc::new(ArcSwap::from_pointee(table)), metrics, file: None }
    }

    /// The tenants of the file at `path`, each connector built on `base`.
    pub fn from_file(path: &Path, base: TenantBase) -> Result<Self, TenantsFileError> {
        let metrics = Arc::new(Metrics::default());
        let specs = tenants_file::load(path)?;
        let table = TenantTable::build(&specs, &base, &metrics, None, path)?;
        Ok(Self {
            table: Arc::new(ArcSwap::from_pointee(table)),
            metrics,
            file: Some(Arc::new((path.to_owned(), base))),
        })
    }

    /// The table in force now; a request holds it until it ends.
    pub fn current(&self) -> Arc<TenantTable> {
        self.table.load_full()
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The file the tenants come from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_deref().map(|(path, _)| path.as_path())
    }

    /// Reads the file again and swaps the new table in whole; on any error the table in force
    /// stays. Returns how many tenants are now served. Without a file, keeps the table.
    pub fn reload(&self) -> Result<usize, TenantsFileError> {
        let Some(file) = &self.file else { return Ok(self.current().tenants.len()) };
        let (path, base) = &**file;
        let built = tenants_file::load(path)
            .and_then(|specs| TenantTable::build(&specs, base, &self.metrics, Some(&self.current()), path));
        let result = if built.is_ok() { "applied" } else { "refused" };
        self.metrics.reloads.get_or_create(&ReloadLabels { result: result.to_owned() }).inc();
        let table = built?;
        let count = table.tenants.len();
        self.table.store(Arc::new(table));
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_compare_whole() {
        let a = tenants_file::token_hash("a");
        let mut b = a;
        assert!(constant_time_eq(&a, &b));
        b[31] ^= 1;
        assert!(!constant_time_eq(&a, &b));
    }
}
