//! The cap on what the host holds in its own memory on an instance's behalf, outside the
//! instance's linear memory (which [`super::limits`] caps): the header maps the guest builds
//! and the buffers of the request and response bodies it writes. Without it a guest could keep
//! opening bodies or header maps that the host never sends, and grow the host without bound.
//!
//! The functions of `wasi:http/types` that make the host hold more are shadowed in the linker:
//! each first counts what the instance's resource table holds, adds what the call would add,
//! and traps the instance over the cap, then runs wasmtime-wasi-http's own implementation.
//! An open body is counted at its buffer's maximum ([`BODY_BUFFER_BYTES`]) from the moment it
//! is opened, so the cap holds before the bytes arrive. Bytes of a request already sent drain
//! to the network and are not counted; requests in flight are bounded by the request cap.
//! Besides bytes, the table itself is capped at [`MAX_RESOURCES`] entries (streams, pollables,
//! requests), as every entry costs host memory.

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, ResourceTable, ResourceTableError};
use wasmtime_wasi_http::p2::bindings::http::types::{self as wit, HostFields as _};
use wasmtime_wasi_http::p2::body::HostOutgoingBody;
use wasmtime_wasi_http::p2::types::{HostOutgoingRequest, HostOutgoingResponse};
use wasmtime_wasi_http::p2::{HeaderError, HeaderResult};
use wasmtime_wasi_http::{FieldMap, FieldMapError, WasiHttpView};

use super::limits::{BODY_BUFFER_BYTES, Exceeded, Held, MAX_HEADER_MAP_BYTES, MAX_RESOURCES};
use super::store_state::StoreState;

/// The `wasi:http/types` instance name the shadowed functions live under: the version
/// wasmtime-wasi-http registers, which guests importing any earlier 0.2 version resolve to.
const TYPES_INSTANCE: &str = "wasi:http/types@0.2.12";

/// Counts what `table` holds. A body being written into a request not yet sent is counted
/// twice (its stream and its request each hold its buffer's other end): an over-estimate,
/// never an under-estimate.
pub fn held(table: &mut ResourceTable) -> Held {
    let mut held = Held::default();
    for (_, entry) in table.iter_mut() {
        if let Some(fields) = entry.downcast_ref::<FieldMap>() {
            held.header_bytes += header_bytes(fields);
        } else if let Some(request) = entry.downcast_ref::<HostOutgoingRequest>() {
            held.header_bytes += header_bytes(&request.headers);
            held.open_bodies += usize::from(request.body.is_some());
        } else if let Some(response) = entry.downcast_ref::<HostOutgoingResponse>() {
            held.header_bytes += header_bytes(&response.headers);
            held.open_bodies += usize::from(response.body.is_some());
        } else if entry.is::<HostOutgoingBody>() {
            held.open_bodies += 1;
        }
    }
    held
}

/// The bytes of one header map as wasmtime-wasi-http counts them against its size limit.
fn header_bytes(fields: &FieldMap) -> usize {
    fields.iter().map(|(name, value)| entry_bytes(name.as_str().len(), value.len())).sum()
}

/// One header entry: its name and value plus the host's per-entry bookkeeping.
fn entry_bytes(name: usize, value: usize) -> usize {
    name + value + size_of::<http::HeaderName>() + size_of::<http::HeaderValue>()
}

/// Traps the instance if holding `more` bytes would take it over its cap, recording which
/// limit it broke so that the call reports it.
fn reserve(state: &mut StoreState, more: usize) -> wasmtime::Result<()> {
    let limit = state.limits.limits().host_buffer_bytes;
    let held = held(&mut state.table);
    if held.bytes().saturating_add(more) <= limit {
        return Ok(());
    }
    let exceeded = Exceeded::HostBuffer { held, asked: more, limit };
    state.limits.exceeded.get_or_insert(exceeded);
    Err(wasmtime::format_err!("{exceeded}"))
}

/// The limit a failed `wasi:http` or resource call broke, if that is why it failed: an
/// oversized header map or a full resource table (wasmtime-wasi-http traps on both).
pub fn limit_in(error: &wasmtime::Error) -> Option<Exceeded> {
    error.chain().find_map(|cause| {
        if matches!(cause.downcast_ref(), Some(FieldMapError::TotalSizeTooBig | FieldMapError::TooManyFields))
        {
            Some(Exceeded::HeaderMap { limit: MAX_HEADER_MAP_BYTES })
        } else if matches!(cause.downcast_ref(), Some(ResourceTableError::Full)) {
            Some(Exceeded::Resources { limit: MAX_RESOURCES })
        } else {
            None
        }
    })
}

/// A header operation's outcome as the guest sees it: a header error, or a trap.
fn header_outcome<T>(result: HeaderResult<T>) -> wasmtime::Result<(Result<T, wit::HeaderError>,)> {
    match result {
        Ok(value) => Ok((Ok(value),)),
        Err(error) => HeaderError::downcast(error).map(|code| (Err(code),)),
    }
}

/// Shadows the `wasi:http/types` functions that make the host hold more with metered ones.
/// Call after `wasmtime_wasi_http::p2::add_only_http_to_linker_async`.
pub fn add_to_linker(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut types = linker.instance(TYPES_INSTANCE)?;
    types.func_wrap(
        "[static]fields.from-list",
        |mut store: StoreContextMut<StoreState>, (entries,): (Vec<(String, Vec<u8>)>,)| {
            let state = store.data_mut();
            reserve(state, entries.iter().map(|(n, v)| entry_bytes(n.len(), v.len())).sum())?;
            header_outcome(state.http().from_list(entries))
        },
    )?;
    types.func_wrap(
        "[method]fields.set",
        |mut store: StoreContextMut<StoreState>,
         (fields, name, values): (Resource<FieldMap>, String, Vec<Vec<u8>>)| {
            let state = store.data_mut();
            reserve(state, values.iter().map(|v| entry_bytes(name.len(), v.len())).sum())?;
            header_outcome(state.http().set(fields, name, values))
        },
    )?;
    types.func_wrap(
        "[method]fields.append",
        |mut store: StoreContextMut<StoreState>,
         (fields, name, value): (Resource<FieldMap>, String, Vec<u8>)| {
            let state = store.data_mut();
            reserve(state, entry_bytes(name.len(), value.len()))?;
            header_outcome(state.http().append(fields, name, value))
        },
    )?;
    types.func_wrap(
        "[method]fields.clone",
        |mut store: StoreContextMut<StoreState>, (fields,): (Resource<FieldMap>,)| {
            let state = store.data_mut();
            let size = header_bytes(state.table.get(&fields)?);
            reserve(state, size)?;
            Ok((state.http().clone(fields)?,))
        },
    )?;
    types.func_wrap(
        "[method]outgoing-request.body",
        |mut store: StoreContextMut<StoreState>, (request,): (Resource<HostOutgoingRequest>,)| {
            let state = store.data_mut();
            reserve(state, BODY_BUFFER_BYTES)?;
            Ok((wit::HostOutgoingRequest::body(&mut state.http(), request)?,))
        },
    )?;
    types.func_wrap(
        "[method]outgoing-response.body",
        |mut store: StoreContextMut<StoreState>, (response,): (Resource<HostOutgoingResponse>,)| {
            let state = store.data_mut();
            reserve(state, BODY_BUFFER_BYTES)?;
            Ok((wit::HostOutgoingResponse::body(&mut state.http(), response)?,))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_maps_and_open_bodies_are_counted_from_the_table() {
        use crate::runtime::limits::{BODY_BUFFER_CHUNKS, BODY_CHUNK_BYTES};
        let mut table = ResourceTable::new();
        assert_eq!(held(&mut table), Held::default());
        // The host's own hooks (wasmtime-wasi-http's defaults come with its sender, which the
        // host leaves out): the header rules are the same.
        let endpoint = crate::settings::Endpoint::parse("http://127.0.0.1:9").unwrap();
        let policy = std::sync::Arc::new(crate::policy::Policy::allow_all());
        let mut hooks = crate::runtime::egress::EgressGuard::new(endpoint, policy, None);
        let mut fields = FieldMap::new_mutable(MAX_HEADER_MAP_BYTES);
        fields.append(&mut hooks, "x-amz-meta-a".into(), b"0123456789".to_vec()).unwrap();
        table.push(fields).unwrap();
        let (body, _receiving_end) = HostOutgoingBody::new(
            wasmtime_wasi_http::p2::body::StreamContext::Request,
            None,
            BODY_BUFFER_CHUNKS,
            BODY_CHUNK_BYTES,
        );
        table.push(body).unwrap();
        let held = held(&mut table);
        assert_eq!(held, Held { header_bytes: entry_bytes(12, 10), open_bodies: 1 });
        assert_eq!(held.bytes(), entry_bytes(12, 10) + 2 * (1 << 20));
    }
}
