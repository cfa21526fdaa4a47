//! The `seekable` import: the guest's handle on a source the host reads at any offset.
//!
//! The guest sees a length and fresh streams of byte ranges, never a path or a file; each
//! range is a new reader from [`SeekableSource::read_range`], so a retried part is read again
//! rather than kept in guest memory.

use std::sync::Arc;

use wasmtime::component::Resource;
use wasmtime_wasi::p2::DynInputStream;
use wasmtime_wasi::p2::pipe::AsyncReadStream;

use super::bindings::s3_connector::s3::seekable;
use super::store_state::StoreState;
use crate::seekable::SeekableSource;

/// What the guest's `source` handle stands for in the instance's resource table.
pub struct SourceHandle(pub Arc<dyn SeekableSource>);

impl seekable::Host for StoreState {}

impl seekable::HostSource for StoreState {
    async fn length(&mut self, source: Resource<SourceHandle>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&source)?.0.length())
    }

    async fn read_range(
        &mut self,
        source: Resource<SourceHandle>,
        offset: u64,
        length: u64,
    ) -> wasmtime::Result<Result<Resource<DynInputStream>, String>> {
        let reader = match self.table.get(&source)?.0.read_range(offset, length) {
            Ok(reader) => reader,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let stream: DynInputStream = Box::new(AsyncReadStream::new(reader));
        Ok(Ok(self.table.push(stream)?))
    }

    async fn drop(&mut self, source: Resource<SourceHandle>) -> wasmtime::Result<()> {
        self.table.delete(source)?;
        Ok(())
    }
}
