//! The plugin's `client` interface as typed calls that each look up only their own function.
//!
//! The bindings `bindgen!` generates load an interface whole: `GuestIndices::load` looks up and
//! type-checks every one of `client`'s 31 functions at every instantiation, and since wasmtime
//! 50 each lookup also finds the function's core code, about 7 µs of a fresh instance's 18
//! (BENCHMARKS.md). A call runs one function: here the export indices are found once per
//! `InstancePre`, and a call looks up and type-checks only the function it runs. The list
//! below is the WIT's `client` interface in Rust types; wasmtime's type check refuses a
//! signature that differs, and a test checks every one against the built plugin.

use wasmtime::Store;
use wasmtime::component::{ComponentExportIndex, Instance, InstancePre, Resource};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream};

use super::bindings::s3_connector::s3::types::{
    BucketInfo, CompletedPart, CopyOptions, CopyResult, DeleteObjectsResult, GetOptions, ListObjectsRequest,
    ListObjectsResult, MultipartUpload, ObjectInfo, ObjectRef, ObjectVersion, PartInfo, PresignRequest,
    PutOptions, PutResult, S3Error, UploadRef,
};
use super::seekable_handles::{SinkHandle, SourceHandle};
use super::store_state::StoreState;

/// The interface's name among the component's exports.
const INTERFACE: &str = "s3-connector:s3/client@0.5.1";

/// Declares the indices of the listed functions and, for each, a typed call that looks it up.
macro_rules! client_exports {
    ($($call:ident = $name:literal ($($arg:ident: $ty:ty),*) -> $ok:ty;)*) => {
        /// Where each function of `client` is among the component's exports, found once per
        /// `InstancePre`.
        pub(crate) struct ClientIndices {
            $($call: ComponentExportIndex,)*
        }

        impl ClientIndices {
            /// Finds every function of the list in `pre`'s component; fails naming the first
            /// one it lacks.
            pub(crate) fn new(pre: &InstancePre<StoreState>) -> wasmtime::Result<Self> {
                let component = pre.component();
                let missing = |name: &str| wasmtime::format_err!("the plugin does not export {INTERFACE}#{name}");
                let (_, interface) = component.get_export(None, INTERFACE).ok_or_else(|| missing(""))?;
                let find = |name: &str| component.get_export_index(Some(&interface), name).ok_or_else(|| missing(name));
                Ok(Self { $($call: find($name)?,)* })
            }

            /// Looks up and type-checks every function of the list in `instance`: the test that
            /// keeps the list true to the WIT.
            #[cfg(test)]
            pub(crate) fn check_every_function(&self, store: &mut Store<StoreState>, instance: &Instance) -> wasmtime::Result<()> {
                $(instance.get_typed_func::<($($ty,)*), (Result<$ok, S3Error>,)>(&mut *store, &self.$call)?;)*
                Ok(())
            }
        }

        impl Client {
            $(
                #[doc = concat!("Calls `", $name, "` of the instance.")]
                pub(crate) async fn $call(&self, store: &mut Store<StoreState>, $($arg: $ty),*) -> wasmtime::Result<Result<$ok, S3Error>> {
                    let func = self.instance.get_typed_func::<($($ty,)*), (Result<$ok, S3Error>,)>(&mut *store, &self.indices.$call)?;
                    let (result,) = func.call_async(&mut *store, ($($arg,)*)).await?;
                    Ok(result)
                }
            )*
        }
    };
}

client_exports! {
    call_create_bucket = "create-bucket" (bucket: &str) -> ();
    call_delete_bucket = "delete-bucket" (bucket: &str) -> ();
    call_head_bucket = "head-bucket" (bucket: &str) -> ();
    call_list_buckets = "list-buckets" () -> Vec<BucketInfo>;
    call_put_object = "put-object" (object: &ObjectRef, body: Resource<DynInputStream>, length: Option<u64>, options: &PutOptions) -> PutResult;
    call_put_object_from = "put-object-from" (object: &ObjectRef, source: Resource<SourceHandle>, options: &PutOptions) -> PutResult;
    call_put_object_bytes = "put-object-bytes" (object: &ObjectRef, body: &[u8], options: &PutOptions) -> PutResult;
    call_get_object = "get-object" (object: &ObjectRef, sink: Resource<DynOutputStream>, options: &GetOptions) -> ObjectInfo;
    call_get_object_into = "get-object-into" (object: &ObjectRef, sink: Resource<SinkHandle>, options: &GetOptions) -> ObjectInfo;
    call_head_object = "head-object" (object: &ObjectRef, options: &GetOptions) -> ObjectInfo;
    call_delete_object = "delete-object" (object: &ObjectRef, version_id: Option<&str>) -> ();
    call_list_objects = "list-objects" (bucket: &str, request: &ListObjectsRequest) -> ListObjectsResult;
    call_copy_object = "copy-object" (source: &ObjectRef, target: &ObjectRef) -> CopyResult;
    call_copy_object_with = "copy-object-with" (source: &ObjectRef, target: &ObjectRef, options: &CopyOptions) -> CopyResult;
    call_presign = "presign" (request: &PresignRequest) -> String;
    call_delete_objects = "delete-objects" (bucket: &str, keys: &[String]) -> DeleteObjectsResult;
    call_get_object_tags = "get-object-tags" (object: &ObjectRef) -> Vec<(String, String)>;
    call_put_object_tags = "put-object-tags" (object: &ObjectRef, tags: &[(String, String)]) -> ();
    call_delete_object_tags = "delete-object-tags" (object: &ObjectRef) -> ();
    call_get_bucket_tags = "get-bucket-tags" (bucket: &str) -> Vec<(String, String)>;
    call_put_bucket_tags = "put-bucket-tags" (bucket: &str, tags: &[(String, String)]) -> ();
    call_delete_bucket_tags = "delete-bucket-tags" (bucket: &str) -> ();
    call_get_bucket_location = "get-bucket-location" (bucket: &str) -> String;
    call_create_multipart_upload = "create-multipart-upload" (object: &ObjectRef, options: &PutOptions) -> UploadRef;
    call_upload_part = "upload-part" (upload: &UploadRef, part_number: u32, body: Resource<DynInputStream>, length: u64) -> String;
    call_upload_part_copy = "upload-part-copy" (source: &ObjectRef, range: Option<(u64, u64)>, upload: &UploadRef, part_number: u32) -> String;
    call_complete_multipart_upload = "complete-multipart-upload" (upload: &UploadRef, parts: &[CompletedPart]) -> PutResult;
    call_abort_multipart_upload = "abort-multipart-upload" (upload: &UploadRef) -> ();
    call_list_multipart_uploads = "list-multipart-uploads" (bucket: &str, prefix: Option<&str>) -> Vec<MultipartUpload>;
    call_list_parts = "list-parts" (upload: &UploadRef) -> Vec<PartInfo>;
    call_list_object_versions = "list-object-versions" (bucket: &str, prefix: Option<&str>) -> Vec<ObjectVersion>;
}

/// The `client` interface of one instance: its calls look their function up as they run.
pub(crate) struct Client {
    indices: &'static ClientIndices,
    instance: Instance,
}

impl ClientIndices {
    /// The interface of `instance`, an instance of the `InstancePre` these indices came from.
    pub(crate) fn load(&'static self, instance: &Instance) -> Client {
        Client { indices: self, instance: *instance }
    }
}

impl Client {
    /// Looks up and type-checks `head-object` without calling it: what a typed call does
    /// between instantiation and the guest's first instruction. For the benchmarks only.
    #[cfg(feature = "internals")]
    pub(crate) fn look_up_one(&self, store: &mut Store<StoreState>) -> wasmtime::Result<()> {
        type Params<'a> = (&'a ObjectRef, &'a GetOptions);
        let index = &self.indices.call_head_object;
        self.instance.get_typed_func::<Params<'_>, (Result<ObjectInfo, S3Error>,)>(store, index).map(drop)
    }
}
