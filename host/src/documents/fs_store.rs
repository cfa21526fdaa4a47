//! The file-system document store (`--documents DIR`, `storeId` "fs").

use std::path::{Path, PathBuf};

use rand::Rng;

use super::{DocumentError, DocumentFuture, DocumentMetadata, DocumentReader, DocumentStore, DocumentWriter};

/// Documents are files directly in one directory; a `documentId` is a file name there.
///
/// Downloads are written to a hidden `.ID.partial` file and renamed to `ID` only when the action
/// succeeded. New ids are `RANDOM-FILENAME`, so that the original file name survives.
#[derive(Debug, Clone)]
pub struct FsDocumentStore {
    dir: PathBuf,
    store_id: String,
}

impl FsDocumentStore {
    /// A store over `dir`, which must exist.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, DocumentError> {
        let dir = dir.into();
        if !dir.is_dir() {
            return Err(DocumentError(format!(
                "the document directory {} does not exist or is not a directory; create it first",
                dir.display()
            )));
        }
        Ok(Self { dir, store_id: "fs".to_owned() })
    }

    /// The same store under another `storeId` (default `fs`), for engines whose references name
    /// their own store (Camunda's runtime sends `in-memory`, for example).
    pub fn with_store_id(mut self, store_id: impl Into<String>) -> Self {
        self.store_id = store_id.into();
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, document_id: &str) -> Result<PathBuf, DocumentError> {
        check_id(document_id)?;
        Ok(self.dir.join(document_id))
    }

    /// The file a document id names, with links resolved; refused if a link leads outside the
    /// directory (a link planted there must not let a reference read anything else).
    async fn existing_path(&self, document_id: &str) -> Result<PathBuf, DocumentError> {
        let path = self.path(document_id)?;
        let cannot = |e: std::io::Error| {
            DocumentError(format!("document {document_id:?} cannot be opened in store \"fs\": {e}"))
        };
        let resolved = tokio::fs::canonicalize(&path).await.map_err(cannot)?;
        let dir = tokio::fs::canonicalize(&self.dir).await.map_err(cannot)?;
        if resolved.parent() != Some(dir.as_path()) {
            return Err(DocumentError(format!(
                "document {document_id:?} is a link that leads outside the document directory {}; links \
                 must stay in it",
                self.dir.display()
            )));
        }
        Ok(resolved)
    }

    fn partial_path(&self, document_id: &str) -> Result<PathBuf, DocumentError> {
        check_id(document_id)?;
        Ok(self.dir.join(format!(".{document_id}.partial")))
    }
}

/// A document id is one plain file name: no separators, no `..`, not hidden, so that no
/// reference can reach outside the directory.
pub fn check_id(document_id: &str) -> Result<(), DocumentError> {
    let bad = document_id.is_empty()
        || document_id.starts_with('.')
        || document_id.contains(['/', '\\', '\0'])
        || document_id.len() > 255;
    if bad {
        return Err(DocumentError(format!(
            "document id {document_id:?} is not a plain file name; ids name a file directly in the \
             document directory (no '/', '\\', or leading '.')"
        )));
    }
    Ok(())
}

/// The file name a new document gets: the given name with anything unsafe replaced, or
/// `document`.
fn safe_file_name(name: Option<&str>) -> String {
    let cleaned: String = name
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() { "document".to_owned() } else { cleaned.chars().take(200).collect() }
}

/// The original file name of an id this store made (`RANDOM-NAME`), else the id itself.
fn file_name_of(document_id: &str) -> &str {
    match document_id.split_once('-') {
        Some((random, name)) if random.len() == 16 && random.chars().all(|c| c.is_ascii_hexdigit()) => name,
        _ => document_id,
    }
}

impl DocumentStore for FsDocumentStore {
    fn store_id(&self) -> &str {
        &self.store_id
    }

    fn open<'a>(&'a self, document_id: &'a str) -> DocumentFuture<'a, (DocumentMetadata, DocumentReader)> {
        Box::pin(async move {
            let path = self.existing_path(document_id).await?;
            let file = tokio::fs::File::open(&path).await.map_err(|e| {
                DocumentError(format!("document {document_id:?} cannot be opened in store \"fs\": {e}"))
            })?;
            let size = file.metadata().await.map(|m| m.len()).ok();
            let file_name = file_name_of(document_id).to_owned();
            let content_type = mime_guess::from_path(&file_name).first().map(|m| m.to_string());
            let metadata = DocumentMetadata { content_type, size, file_name: Some(file_name) };
            Ok((metadata, Box::new(file) as DocumentReader))
        })
    }

    fn create<'a>(&'a self, metadata: &'a DocumentMetadata) -> DocumentFuture<'a, (String, DocumentWriter)> {
        Box::pin(async move {
            let random: u64 = rand::rng().random();
            let id = format!("{random:016x}-{}", safe_file_name(metadata.file_name.as_deref()));
            let path = self.partial_path(&id)?;
            // A new file only: never through a link or over a file already there.
            let file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&path).await.map_err(
                |e| DocumentError(format!("cannot create a document in {}: {e}", self.dir.display())),
            )?;
            Ok((id, Box::new(file) as DocumentWriter))
        })
    }

    fn finish<'a>(&'a self, document_id: &'a str, keep: bool) -> DocumentFuture<'a, ()> {
        Box::pin(async move {
            let partial = self.partial_path(document_id)?;
            let result = if keep {
                tokio::fs::rename(&partial, self.path(document_id)?).await
            } else {
                tokio::fs::remove_file(&partial).await
            };
            result.map_err(|e| DocumentError(format!("cannot finish document {document_id:?}: {e}")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_inside_the_directory() {
        for good in ["a.pdf", "0123456789abcdef-report.txt", "x"] {
            assert!(check_id(good).is_ok(), "{good}");
        }
        for bad in ["", "../etc/passwd", "a/b", ".hidden", "..", "a\\b", "nul\0"] {
            let error = check_id(bad).unwrap_err();
            assert!(error.0.contains("plain file name"), "{bad}: {error}");
        }
    }

    #[test]
    fn new_ids_keep_a_safe_file_name() {
        assert_eq!(safe_file_name(Some("report 2024.pdf")), "report_2024.pdf");
        assert_eq!(safe_file_name(Some("../../x")), "_.._x");
        assert_eq!(safe_file_name(Some("..")), "document");
        assert_eq!(safe_file_name(None), "document");
        assert_eq!(file_name_of("0123456789abcdef-report.pdf"), "report.pdf");
        assert_eq!(file_name_of("plain-name.pdf"), "plain-name.pdf");
    }

    #[tokio::test]
    async fn documents_are_published_only_when_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsDocumentStore::new(dir.path()).unwrap();
        let metadata = DocumentMetadata { content_type: None, size: None, file_name: Some("a.txt".into()) };
        for keep in [true, false] {
            let (id, mut writer) = store.create(&metadata).await.unwrap();
            tokio::io::AsyncWriteExt::write_all(&mut writer, b"hello").await.unwrap();
            tokio::io::AsyncWriteExt::shutdown(&mut writer).await.unwrap();
            assert!(id.ends_with("-a.txt"), "{id}");
            store.finish(&id, keep).await.unwrap();
            assert_eq!(dir.path().join(&id).exists(), keep);
            if keep {
                let (metadata, _) = store.open(&id).await.unwrap();
                assert_eq!(metadata.size, Some(5));
                assert_eq!(metadata.file_name.as_deref(), Some("a.txt"));
                assert_eq!(metadata.content_type.as_deref(), Some("text/plain"));
            }
        }
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "only the kept document remains: {names:?}");
    }

    #[tokio::test]
    async fn links_that_leave_the_directory_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), b"outside").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("inside.txt"), b"inside").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), dir.path().join("leak.txt")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("inside.txt"), dir.path().join("alias.txt")).unwrap();
        let store = FsDocumentStore::new(dir.path()).unwrap();
        let refused = store.open("leak.txt").await.err().expect("a link out of the directory is refused");
        assert!(refused.0.contains("leads outside the document directory"), "{refused}");
        let (metadata, _) = store.open("alias.txt").await.expect("a link that stays inside is followed");
        assert_eq!(metadata.size, Some(6));
    }
}
