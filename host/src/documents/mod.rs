//! Document stores: where JSON actions read uploads from and write downloads to.
//!
//! A workflow engine passes document references (`{"storeId", "documentId", ...}`) instead of
//! bytes; the host resolves them to streams, so a large document never becomes base64 or a byte
//! array. The reference host ships [`FsDocumentStore`]; an engine plugs in its own store by
//! implementing [`DocumentStore`] and passing it to
//! [`ConnectorBuilder::documents`](crate::ConnectorBuilder::documents).

mod fs_store;

use std::future::Future;
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};

pub use crate::runtime::bindings::s3_connector::s3::documents::DocumentMetadata;
pub use fs_store::FsDocumentStore;

/// Why a store could not open or create a document. The text is shown to the engine as is:
/// name the document and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DocumentError(pub String);

/// A document's content, for reading.
pub type DocumentReader = Box<dyn AsyncRead + Send + Unpin>;
/// A new document's content, for writing.
pub type DocumentWriter = Box<dyn AsyncWrite + Send + Unpin>;
/// A boxed future, so that the trait stays object-safe.
pub type DocumentFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DocumentError>> + Send + 'a>>;

/// A document store.
///
/// A download creates a document, the plugin writes it, and the host then calls
/// [`DocumentStore::finish`]: with `keep` true when the action succeeded, false when it failed,
/// so that a failed download leaves no half-written document behind.
pub trait DocumentStore: Send + Sync + std::fmt::Debug {
    /// The `storeId` of this store's references, for example `fs`.
    fn store_id(&self) -> &str;

    /// Opens a document: its metadata (with its size, when known) and its content.
    fn open<'a>(&'a self, document_id: &'a str) -> DocumentFuture<'a, (DocumentMetadata, DocumentReader)>;

    /// Creates a new document; returns its id and where to write it.
    fn create<'a>(&'a self, metadata: &'a DocumentMetadata) -> DocumentFuture<'a, (String, DocumentWriter)>;

    /// Ends a created document: publishes it (`keep`) or removes it.
    fn finish<'a>(&'a self, document_id: &'a str, keep: bool) -> DocumentFuture<'a, ()>;
}
