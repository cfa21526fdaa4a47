//! The `seekable` import: the guest's handles on a source the host reads at any offset and on
//! a sink it writes at any offset.
//!
//! The guest sees a length and fresh streams of byte ranges, never a path or a file; each
//! range is a new reader from [`crate::seekable::SeekableSource::read_range`], so a retried
//! part is read again rather than kept in guest memory; or a new writer from
//! [`crate::seekable::SeekableSink::write_range`], so ranges are written side by side where
//! they belong. The handles' types are in `seekable_handles.rs`.

use wasmtime::component::Resource;
use wasmtime_wasi::p2::pipe::{AsyncReadStream, AsyncWriteStream};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream};

use super::bindings::s3_connector::s3::seekable;
use super::limits::SINK_BUDGET_BYTES;
use super::seekable_handles::{SinkHandle, SourceHandle};
use super::store_state::StoreState;

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

impl seekable::HostSink for StoreState {
    async fn write_range(
        &mut self,
        sink: Resource<SinkHandle>,
        offset: u64,
    ) -> wasmtime::Result<Result<Resource<DynOutputStream>, String>> {
        let writer = match self.table.get(&sink)?.0.write_range(offset) {
            Ok(writer) => writer,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let stream: DynOutputStream = Box::new(AsyncWriteStream::new(SINK_BUDGET_BYTES, writer));
        Ok(Ok(self.table.push(stream)?))
    }

    async fn drop(&mut self, sink: Resource<SinkHandle>) -> wasmtime::Result<()> {
        self.table.delete(sink)?;
        Ok(())
    }
}
