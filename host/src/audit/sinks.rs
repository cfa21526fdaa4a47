//! The audit sinks the host ships: a file opened for appending, stderr, and memory (for
//! embedders that forward records themselves, and for tests).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use super::{AuditRecord, AuditSink};
use crate::error::LocalError;

/// Appends one JSON line per record to a file. Each line is written with one `write` call on a
/// file opened in append mode, so concurrent writers (other processes too) do not interleave
/// within a line.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    file: Mutex<File>,
    warned: AtomicBool,
}

impl FileSink {
    /// Opens (or creates) `path` for appending.
    pub fn open(path: &Path) -> Result<Self, LocalError> {
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(|e| LocalError {
            context: format!(
                "cannot open the audit log {} for appending (check the directory and permissions)",
                path.display()
            ),
            source: Some(e),
        })?;
        Ok(Self { path: path.to_owned(), file: Mutex::new(file), warned: AtomicBool::new(false) })
    }
}

impl AuditSink for FileSink {
    fn record(&self, record: &AuditRecord) {
        let mut line = record.to_json_line();
        line.push('\n');
        let result = self.file.lock().unwrap_or_else(PoisonError::into_inner).write_all(line.as_bytes());
        // A failing audit log must not go unnoticed, nor flood stderr: say it once.
        if let Err(e) = result
            && !self.warned.swap(true, Ordering::Relaxed)
        {
            eprintln!("s3-connector: writing the audit log {} failed: {e}", self.path.display());
        }
    }
}

/// Writes one JSON line per record to stderr.
#[derive(Debug, Default)]
pub struct StderrSink;

impl AuditSink for StderrSink {
    fn record(&self, record: &AuditRecord) {
        let mut line = record.to_json_line();
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// Keeps every record in memory.
#[derive(Debug, Default)]
pub struct MemorySink {
    records: Mutex<Vec<AuditRecord>>,
}

impl MemorySink {
    /// The records so far, oldest first.
    pub fn records(&self) -> Vec<AuditRecord> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl AuditSink for MemorySink {
    fn record(&self, record: &AuditRecord) {
        self.records.lock().unwrap_or_else(PoisonError::into_inner).push(record.clone());
    }
}
