//! The `documents` import: the guest's view of the engine's document store.
//!
//! The store is the host's; the guest gets streams, never paths. Documents created during a
//! call are remembered so that the host can publish or remove them once it knows the outcome.

use wasmtime::component::Resource;
use wasmtime_wasi::p2::pipe::{AsyncReadStream, AsyncWriteStream};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream};

use super::bindings::s3_connector::s3::documents::{self, DocumentMetadata, DocumentReference};
use super::store_state::StoreState;

/// How many bytes a document being written may have in flight.
const WRITE_BUDGET: usize = 1 << 20;

impl documents::Host for StoreState {
    async fn open(
        &mut self,
        store_id: String,
        document_id: String,
    ) -> Result<(DocumentMetadata, Resource<DynInputStream>), String> {
        let store = self.document_store(Some(&store_id))?;
        let (metadata, reader) = store.open(&document_id).await.map_err(|e| e.to_string())?;
        let stream: DynInputStream = Box::new(AsyncReadStream::new(reader));
        Ok((metadata, self.table.push(stream).map_err(|e| format!("the host is out of resources: {e}"))?))
    }

    async fn create(
        &mut self,
        metadata: DocumentMetadata,
    ) -> Result<(DocumentReference, Resource<DynOutputStream>), String> {
        let store = self.document_store(None)?;
        let (document_id, writer) = store.create(&metadata).await.map_err(|e| e.to_string())?;
        self.created_documents.push(document_id.clone());
        let stream: DynOutputStream = Box::new(AsyncWriteStream::new(WRITE_BUDGET, writer));
        let stream = self.table.push(stream).map_err(|e| format!("the host is out of resources: {e}"))?;
        let reference = DocumentReference { store_id: store.store_id().to_owned(), document_id, metadata };
        Ok((reference, stream))
    }
}
