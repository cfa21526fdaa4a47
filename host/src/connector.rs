//! The embedding API: a [`Connector`] runs each S3 call in a fresh plugin instance, with the
//! connection, policy and credentials it was built with.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncRead, AsyncWrite};
use wasmtime::Store;
use wasmtime::component::Resource;
use wasmtime_wasi::p2::pipe::{AsyncReadStream, AsyncWriteStream};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream};

use crate::audit::{Audit, AuditRecord, AuditSink, DEFAULT_TENANT, Decision, Kind};
use crate::credentials::CredentialsProvider;
use crate::documents::DocumentStore;
use crate::error::Error;
use crate::policy::s3_address::parse_presigned;
use crate::policy::{Denial, Grant, Policy, S3Request};
use crate::runtime::bindings::Plugin;
use crate::runtime::bindings::exports::s3_connector::s3::client::Guest;
use crate::runtime::limits::Limits;
use crate::runtime::plugin_runtime::PluginRuntime;
use crate::runtime::retry_budget::RetryBudget;
use crate::runtime::sandboxed_call::SandboxedCall;
use crate::runtime::store_state::{Shared, StoreState};
use crate::settings::Connection;
use crate::types::{
    BucketInfo, CompletedPart, CopyOptions, CopyResult, DeleteObjectsResult, GetOptions, ListObjectsRequest,
    ListObjectsResult, MultipartUpload, ObjectInfo, ObjectVersion, PartInfo, PresignMethod, PresignRequest,
    PutOptions, PutResult, S3Error,
};

/// S3's limit on a presigned URL's lifetime: 7 days.
pub const MAX_PRESIGN_SECONDS: u32 = 7 * 24 * 3600;

/// How long a call may take unless [`Connector::with_call_timeout`] says otherwise.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(3600);

/// How many times the plugin tries a request unless [`Connector::with_max_attempts`] says
/// otherwise: the AWS SDKs' standard retry mode.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// Inline content (`createDocument: false`) of JSON actions up to this many bytes unless
/// [`Connector::with_max_inline_bytes`] says otherwise.
pub const DEFAULT_MAX_INLINE_BYTES: u64 = 8 * 1024 * 1024;

/// How many bytes a download may have in flight towards its sink.
const SINK_BUDGET: usize = 1 << 20;

/// An S3 connector: the sandboxed plugin, bound to one endpoint, policy and credentials.
///
/// Cheap to clone; every call instantiates the plugin afresh from the process-wide
/// [`PluginRuntime`], so calls are independent and may run concurrently.
#[derive(Clone)]
pub struct Connector {
    pub(crate) runtime: &'static PluginRuntime,
    pub(crate) shared: Shared,
    pub(crate) max_presign_seconds: u32,
    pub(crate) call_timeout: Duration,
    pub(crate) max_inline_bytes: u64,
    pub(crate) tenant: String,
    pub(crate) allow_request_credentials: bool,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector").field("shared", &self.shared).finish_non_exhaustive()
    }
}

impl Connector {
    /// A connector. The policy is required: a library user states what the plugin may touch
    /// ([`Policy::allow_all`] says so explicitly).
    pub fn new(
        connection: Connection,
        policy: Policy,
        credentials: Arc<dyn CredentialsProvider>,
    ) -> Result<Self, Error> {
        let runtime = PluginRuntime::shared()?;
        let shared = Shared {
            connection,
            policy: Arc::new(policy),
            credentials,
            pinned_time: None,
            audit: None,
            documents: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            limits: Limits::default(),
            retry_budget: Arc::new(RetryBudget::default()),
        };
        Ok(Self {
            runtime,
            shared,
            max_presign_seconds: MAX_PRESIGN_SECONDS,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            max_inline_bytes: DEFAULT_MAX_INLINE_BYTES,
            tenant: DEFAULT_TENANT.to_owned(),
            allow_request_credentials: false,
        })
    }

    /// Records every decision of the host (each request the plugin sends, each presigned URL,
    /// each refused credentials scope) to `sink`, as [`crate::audit::AuditRecord`]s. A closure
    /// `Fn(&AuditRecord)` is a sink; so are [`crate::audit::FileSink`],
    /// [`crate::audit::StderrSink`] and [`crate::audit::MemorySink`].
    pub fn with_audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.shared.audit =
            Some(Audit { sink, tenant: self.tenant.clone(), call_id: None, serve_request_id: None });
        self
    }

    /// Names the tenant this connector's audit records carry (default `default`).
    pub fn with_tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = tenant.into();
        if let Some(audit) = &mut self.shared.audit {
            audit.tenant = self.tenant.clone();
        }
        self
    }

    /// The tenant named in audit records.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// Pins the wall clock the plugin sees, so that signatures and presigned URLs are
    /// reproducible (the CLI's `--at`).
    pub fn with_pinned_time(mut self, time: SystemTime) -> Self {
        self.shared.pinned_time = Some(time);
        self
    }

    /// Bounds every call in wall-clock time (default one hour, for large transfers); a call that
    /// takes longer is stopped with its instance and fails with `timeout`.
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// How many times the plugin tries each request in all (default 3; 1 never retries).
    /// Transient failures (429, 500, 502, 503, 504, SlowDown, InternalError, a reset or timed-out
    /// connection, a 200 with an error body) are retried after a backoff with full jitter
    /// (100 ms doubling, at most 20 s); each retry is signed afresh and checked by the policy
    /// again. Single PUTs up to 16 MiB and multipart parts are resent with the same bytes, and a
    /// download cut off mid-body resumes from its last byte; only a single PUT streamed above
    /// 16 MiB is sent once. `RequestTimeTooSkewed` is retried with the clock
    /// corrected from the server's `Date`.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.shared.max_attempts = attempts.max(1);
        self
    }

    /// Sizes the retry budget this connector's calls (and `serve`'s requests) share: `tokens`
    /// in all (default [`crate::runtime::retry_budget::DEFAULT_RETRY_TOKENS`]), a retry costs
    /// [`crate::runtime::retry_budget::RETRY_COST`], a success gives some back. When it is empty a transient
    /// failure is not retried and the call fails with [`Error::RetryBudget`].
    pub fn with_retry_budget(mut self, tokens: u32) -> Self {
        self.shared.retry_budget = Arc::new(RetryBudget::new(tokens));
        self
    }

    /// The retry budget, for metrics: tokens left and retries refused so far.
    pub fn retry_budget(&self) -> &RetryBudget {
        &self.shared.retry_budget
    }

    /// Bounds the WebAssembly execution time of every call (default
    /// [`limits::DEFAULT_CPU_BUDGET`]); time the plugin waits for the host's I/O does not count.
    /// A call over budget fails with [`Error::Plugin`] naming the budget.
    pub fn with_cpu_budget(mut self, budget: Duration) -> Self {
        self.shared.limits.cpu_budget = budget;
        self
    }

    /// Bounds the linear memory of every call's instance (default and maximum
    /// [`crate::runtime::limits::MAX_INSTANCE_MEMORY`]). A call over the limit fails with
    /// [`Error::Plugin`] naming it.
    pub fn with_memory_limit(mut self, bytes: usize) -> Self {
        self.shared.limits.memory_bytes = bytes;
        self
    }

    /// Caps what the host holds for one call outside the plugin's memory: header maps and the
    /// buffers of bodies being written (default [`limits::DEFAULT_HOST_BUFFER_BYTES`]). A
    /// call over the cap fails with [`Error::Plugin`] naming it.
    pub fn with_host_buffer_limit(mut self, bytes: usize) -> Self {
        self.shared.limits.host_buffer_bytes = bytes;
        self
    }

    /// Caps the requests one call may try (default [`limits::DEFAULT_MAX_REQUESTS`]); past the
    /// cap every request is denied with a reason naming it.
    pub fn with_max_requests_per_call(mut self, requests: u32) -> Self {
        self.shared.limits.max_requests = requests;
        self
    }

    /// Caps the lifetime of presigned URLs below S3's 7 days.
    pub fn with_presign_cap(mut self, seconds: u32) -> Self {
        self.max_presign_seconds = seconds.min(MAX_PRESIGN_SECONDS);
        self
    }

    /// The document store JSON actions read uploads from and write downloads to.
    pub fn with_documents(mut self, store: Arc<dyn DocumentStore>) -> Self {
        self.shared.documents = Some(store);
        self
    }

    /// Caps the content JSON actions return inline (`createDocument: false`); larger objects
    /// are refused with `content-too-large` and a hint to ask for a document.
    pub fn with_max_inline_bytes(mut self, bytes: u64) -> Self {
        self.max_inline_bytes = bytes;
        self
    }

    /// Lets JSON actions carry their own keys (Camunda's `authentication.type: credentials`):
    /// they sign that one call instead of the host's credentials, still under the policy and
    /// scoped like any credentials (provider `request`). Off by default: such a request is
    /// refused, naming this setting (see [`crate::request_settings`]).
    pub fn with_request_credentials(mut self, allow: bool) -> Self {
        self.allow_request_credentials = allow;
        self
    }

    /// The connection settings.
    pub fn connection(&self) -> &Connection {
        &self.shared.connection
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.shared.policy
    }

    /// The name of the credentials provider.
    pub fn credentials_provider(&self) -> &'static str {
        self.shared.credentials.name()
    }

    /// A fresh sandbox for one call of this connector, once a slot of the instance pool is free.
    pub(crate) async fn sandbox(&self) -> Result<SandboxedCall, Error> {
        SandboxedCall::open(&self.runtime.engine, self.shared.clone(), |_| {}).await
    }

    /// Runs `export` on a fresh instance of the plugin in `call`, under the call timeout.
    pub(crate) async fn run_plugin<T>(
        &self,
        call: &mut SandboxedCall,
        export: impl AsyncFnOnce(&Plugin, &mut Store<StoreState>) -> wasmtime::Result<T>,
    ) -> Result<T, Error> {
        let pre = &self.runtime.pre;
        call.run(self.call_timeout, async |store| {
            let plugin = pre.instantiate_async(&mut *store).await?;
            export(&plugin, store).await
        })
        .await
    }

    /// Instantiates the plugin once and drops the instance: what every call pays before the
    /// plugin runs. For the benchmarks (`bench/`) only.
    #[doc(hidden)]
    pub async fn bench_instantiate(&self) -> Result<(), Error> {
        let mut call = self.sandbox().await?;
        self.run_plugin(&mut call, async |_, _| Ok(())).await
    }

    /// Runs one export of the client interface in a fresh instance and reads its outcome as
    /// the host sees it.
    async fn call<T>(
        &self,
        export: impl AsyncFnOnce(&Guest, &mut Store<StoreState>) -> wasmtime::Result<Result<T, S3Error>>,
    ) -> Result<T, Error> {
        let mut call = self.sandbox().await?;
        let result = self.run_plugin(&mut call, async |plugin, store| {
            export(plugin.s3_connector_s3_client(), store).await
        });
        let result = result.await?;
        call.verdict(result)
    }

    /// CreateBucket.
    pub async fn create_bucket(&self, bucket: &str) -> Result<(), Error> {
        self.call(async |client, store| client.call_create_bucket(store, bucket).await).await
    }

    /// DeleteBucket (the bucket must be empty).
    pub async fn delete_bucket(&self, bucket: &str) -> Result<(), Error> {
        self.call(async |client, store| client.call_delete_bucket(store, bucket).await).await
    }

    /// HeadBucket: `Ok` when the bucket exists and is accessible.
    pub async fn head_bucket(&self, bucket: &str) -> Result<(), Error> {
        self.call(async |client, store| client.call_head_bucket(store, bucket).await).await
    }

    /// ListBuckets.
    pub async fn list_buckets(&self) -> Result<Vec<BucketInfo>, Error> {
        self.call(async |client, store| client.call_list_buckets(store).await).await
    }

    /// PutObject from a reader. With `length` the body streams in one request; without, the
    /// plugin uploads in parts and aborts the upload if anything fails. Never buffered whole.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: impl AsyncRead + Send + 'static,
        length: Option<u64>,
        options: PutOptions,
    ) -> Result<PutResult, Error> {
        self.call(async |client, store| {
            let body = input_stream(store, body)?;
            client.call_put_object(store, bucket, key, body, length, &options).await
        })
        .await
    }

    /// PutObject from bytes in memory.
    pub async fn put_object_bytes(
        &self,
        bucket: &str,
        key: &str,
        body: &[u8],
        options: PutOptions,
    ) -> Result<PutResult, Error> {
        self.call(async |client, store| {
            client.call_put_object_bytes(store, bucket, key, body, &options).await
        })
        .await
    }

    /// GetObject, streamed into `sink` as it arrives. Returns once every byte was written and
    /// the sink flushed.
    pub async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        sink: impl AsyncWrite + Send + 'static,
        options: GetOptions,
    ) -> Result<ObjectInfo, Error> {
        self.call(async |client, store| {
            let stream: DynOutputStream = Box::new(AsyncWriteStream::new(SINK_BUDGET, sink));
            let sink = store.data_mut().table.push(stream)?;
            client.call_get_object(store, bucket, key, Resource::new_borrow(sink.rep()), &options).await
        })
        .await
    }

    /// HeadObject.
    pub async fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectInfo, Error> {
        self.head_object_with(bucket, key, GetOptions::default()).await
    }

    /// HeadObject of a version, under conditions, or of an SSE-C object.
    pub async fn head_object_with(
        &self,
        bucket: &str,
        key: &str,
        options: GetOptions,
    ) -> Result<ObjectInfo, Error> {
        self.call(async |client, store| client.call_head_object(store, bucket, key, &options).await).await
    }

    /// DeleteObject (a missing key is not an error, as in S3).
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), Error> {
        self.delete_object_version(bucket, key, None).await
    }

    /// DeleteObject of one version, or of the current object with `None`.
    pub async fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<(), Error> {
        self.call(async |client, store| client.call_delete_object(store, bucket, key, version_id).await).await
    }

    /// ListObjectsV2: one page.
    pub async fn list_objects(
        &self,
        bucket: &str,
        request: ListObjectsRequest,
    ) -> Result<ListObjectsResult, Error> {
        self.call(async |client, store| client.call_list_objects(store, bucket, &request).await).await
    }
}

impl Connector {
    /// CopyObject: server-side, within or across buckets. The host checks `read` on the source
    /// (from the request's `x-amz-copy-source`) and `write` on the destination.
    pub async fn copy_object(
        &self,
        source_bucket: &str,
        source_key: &str,
        bucket: &str,
        key: &str,
    ) -> Result<CopyResult, Error> {
        self.call(async |client, store| {
            client.call_copy_object(store, source_bucket, source_key, bucket, key).await
        })
        .await
    }

    /// A copy of any size with options: source conditions, metadata replaced, UploadPartCopy
    /// above 5 GiB (after a HEAD of the source). A copy onto itself without new metadata is
    /// refused before anything is sent.
    pub async fn copy_object_with(
        &self,
        source: (&str, &str),
        bucket: &str,
        key: &str,
        options: CopyOptions,
    ) -> Result<CopyResult, Error> {
        self.call(async |client, store| {
            client.call_copy_object_with(store, source.0, source.1, bucket, key, &options).await
        })
        .await
    }

    /// DeleteObjects: many keys, 1000 per request, with a result per key. Needs `delete` on the
    /// whole bucket, since the keys travel in the body.
    pub async fn delete_objects(&self, bucket: &str, keys: &[String]) -> Result<DeleteObjectsResult, Error> {
        self.call(async |client, store| client.call_delete_objects(store, bucket, keys).await).await
    }

    /// GetBucketTagging: the bucket's tags, none when it has no tag set. Needs `admin`.
    pub async fn get_bucket_tags(&self, bucket: &str) -> Result<Vec<(String, String)>, Error> {
        self.call(async |client, store| client.call_get_bucket_tags(store, bucket).await).await
    }

    /// PutBucketTagging: replaces the bucket's tags (at most 50). Needs `admin`.
    pub async fn put_bucket_tags(&self, bucket: &str, tags: &[(String, String)]) -> Result<(), Error> {
        self.call(async |client, store| client.call_put_bucket_tags(store, bucket, tags).await).await
    }

    /// DeleteBucketTagging. Needs `admin`.
    pub async fn delete_bucket_tags(&self, bucket: &str) -> Result<(), Error> {
        self.call(async |client, store| client.call_delete_bucket_tags(store, bucket).await).await
    }

    /// GetObjectTagging.
    pub async fn get_object_tags(&self, bucket: &str, key: &str) -> Result<Vec<(String, String)>, Error> {
        self.call(async |client, store| client.call_get_object_tags(store, bucket, key).await).await
    }

    /// PutObjectTagging: replaces the object's tags.
    pub async fn put_object_tags(
        &self,
        bucket: &str,
        key: &str,
        tags: &[(String, String)],
    ) -> Result<(), Error> {
        self.call(async |client, store| client.call_put_object_tags(store, bucket, key, tags).await).await
    }

    /// DeleteObjectTagging.
    pub async fn delete_object_tags(&self, bucket: &str, key: &str) -> Result<(), Error> {
        self.call(async |client, store| client.call_delete_object_tags(store, bucket, key).await).await
    }

    /// GetBucketLocation: the bucket's region.
    pub async fn get_bucket_location(&self, bucket: &str) -> Result<String, Error> {
        self.call(async |client, store| client.call_get_bucket_location(store, bucket).await).await
    }

    /// CreateMultipartUpload: returns the upload id. For callers that drive parts themselves;
    /// [`Connector::put_object`] does all of it for a stream.
    pub async fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        options: PutOptions,
    ) -> Result<String, Error> {
        self.call(async |client, store| {
            client.call_create_multipart_upload(store, bucket, key, &options).await
        })
        .await
    }

    /// UploadPart: `length` bytes from `body` as part `part_number`; returns the part's ETag.
    pub async fn upload_part(
        &self,
        upload: (&str, &str, &str),
        part_number: u32,
        body: impl AsyncRead + Send + 'static,
        length: u64,
    ) -> Result<String, Error> {
        let (bucket, key, upload_id) = upload;
        self.call(async |client, store| {
            let body = input_stream(store, body)?;
            client.call_upload_part(store, bucket, key, upload_id, part_number, body, length).await
        })
        .await
    }

    /// UploadPartCopy: part `part_number` of the upload `(bucket, key, upload_id)` copied from
    /// `(source_bucket, source_key)`, or the inclusive byte range of it. Returns the part's ETag.
    pub async fn upload_part_copy(
        &self,
        source: (&str, &str),
        range: Option<(u64, u64)>,
        upload: (&str, &str, &str),
        part_number: u32,
    ) -> Result<String, Error> {
        let (bucket, key, upload_id) = upload;
        self.call(async |client, store| {
            client
                .call_upload_part_copy(store, source.0, source.1, range, bucket, key, upload_id, part_number)
                .await
        })
        .await
    }

    /// CompleteMultipartUpload.
    pub async fn complete_multipart_upload(
        &self,
        upload: (&str, &str, &str),
        parts: &[CompletedPart],
    ) -> Result<PutResult, Error> {
        let (bucket, key, upload_id) = upload;
        self.call(async |client, store| {
            client.call_complete_multipart_upload(store, bucket, key, upload_id, parts).await
        })
        .await
    }

    /// AbortMultipartUpload.
    pub async fn abort_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), Error> {
        self.call(async |client, store| {
            client.call_abort_multipart_upload(store, bucket, key, upload_id).await
        })
        .await
    }

    /// ListMultipartUploads, every page.
    pub async fn list_multipart_uploads(
        &self,
        bucket: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<MultipartUpload>, Error> {
        self.call(async |client, store| client.call_list_multipart_uploads(store, bucket, prefix).await).await
    }

    /// ListParts, every page.
    pub async fn list_parts(&self, bucket: &str, key: &str, upload_id: &str) -> Result<Vec<PartInfo>, Error> {
        self.call(async |client, store| client.call_list_parts(store, bucket, key, upload_id).await).await
    }

    /// ListObjectVersions, every page.
    pub async fn list_object_versions(
        &self,
        bucket: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<ObjectVersion>, Error> {
        self.call(async |client, store| client.call_list_object_versions(store, bucket, prefix).await).await
    }

    /// A presigned URL. The host checks the expiry against its cap first, then parses the URL
    /// the plugin returns and checks it against the policy, as if it were a request: a URL
    /// for anything else than what was asked, or anything the policy forbids, is discarded.
    pub async fn presign(&self, request: PresignRequest) -> Result<String, Error> {
        let method = presign_method(request.method);
        self.check_presign_expiry(&method, &request)?;
        let url = self.call(async |client, store| client.call_presign(store, &request).await).await?;
        self.admit_presigned(&method, &request, &url)?;
        Ok(url)
    }

    /// Refuses an expiry over the host's cap before the plugin signs anything (beyond S3's own
    /// 7 days it is bad input, which the plugin reports), and records the refusal.
    pub(crate) fn check_presign_expiry(
        &self,
        method: &http::Method,
        request: &PresignRequest,
    ) -> Result<(), Error> {
        let denial = if request.expires_in_seconds > self.max_presign_seconds
            && request.expires_in_seconds <= MAX_PRESIGN_SECONDS
        {
            Denial(format!(
                "an expiry of {} seconds is over the host's cap of {} seconds; ask for less",
                request.expires_in_seconds, self.max_presign_seconds
            ))
        } else if let Some(late) = self.valid_beyond_cap(request.expires_in_seconds, SystemTime::now()) {
            Denial(format!(
                "the URL would stay valid {late} seconds beyond the host's cap of {} seconds from now, since the \
                 pinned time (--at) is in the future; pin a time in the past or ask for less",
                self.max_presign_seconds
            ))
        } else {
            return Ok(());
        };
        if let Some(audit) = &self.shared.audit {
            let denied = Err(Error::Denied(denial.clone()));
            audit.write(presign_record(&audit.tenant, method, request, &denied));
        }
        Err(Error::Denied(denial))
    }

    /// How many seconds a URL signed at the pinned time and lasting `expires_in` seconds would
    /// stay valid beyond the cap counted from the real clock `now`; `None` when within it. The
    /// cap counts from the signing time, so without this a pinned future time would stretch it.
    fn valid_beyond_cap(&self, expires_in: u32, now: SystemTime) -> Option<u64> {
        let signed = self.shared.pinned_time?;
        let until = signed.checked_add(Duration::from_secs(u64::from(expires_in)))?;
        let limit = now.checked_add(Duration::from_secs(u64::from(self.max_presign_seconds)))?;
        until.duration_since(limit).ok().map(|late| late.as_secs().max(1))
    }

    /// Checks a URL the plugin presigned for `request` and records the decision.
    pub(crate) fn admit_presigned(
        &self,
        method: &http::Method,
        request: &PresignRequest,
        url: &str,
    ) -> Result<(), Error> {
        let checked = self.check_presigned(method, request, url);
        if let Some(audit) = &self.shared.audit {
            audit.write(presign_record(&audit.tenant, method, request, &checked));
        }
        checked.map(drop)
    }

    /// Parses the URL the plugin presigned and checks it: the expiry cap, the object asked
    /// for, the policy. Returns what the parser read and the rule that allowed it.
    fn check_presigned(
        &self,
        method: &http::Method,
        request: &PresignRequest,
        url: &str,
    ) -> Result<(S3Request, Grant), Error> {
        let refuse = |why: String| Error::Denied(Denial(format!("the presigned URL was refused: {why}")));
        let (parsed, expires) = parse_presigned(method, url, &self.shared.connection.endpoint)
            .map_err(|e| refuse(e.to_string()))?;
        if expires > u64::from(self.max_presign_seconds) {
            return Err(refuse(format!(
                "it lasts {expires} seconds, over the cap of {}",
                self.max_presign_seconds
            )));
        }
        if parsed.bucket.as_deref() != Some(request.bucket.as_str())
            || parsed.key.as_deref() != Some(request.key.as_str())
        {
            return Err(refuse(format!("it is not for s3://{}/{}", request.bucket, request.key)));
        }
        let grant = self.shared.policy.decide(&parsed).map_err(Error::Denied)?;
        Ok((parsed, grant))
    }
}

/// The audit record of a presigned URL: what was asked and the verdict, never the URL.
fn presign_record(
    tenant: &str,
    method: &http::Method,
    request: &PresignRequest,
    checked: &Result<(S3Request, Grant), Error>,
) -> AuditRecord {
    let decision = if checked.is_ok() { Decision::Allowed } else { Decision::Denied };
    let mut record = AuditRecord::new(tenant, Kind::Presign, decision);
    record.method = Some(method.to_string());
    record.bucket = Some(request.bucket.clone());
    record.key = Some(request.key.clone());
    match checked {
        Ok((parsed, grant)) => {
            record.operation = Some(parsed.access.grant().name().to_owned());
            record.action = Some(parsed.operation.to_owned());
            record.rule = Some(grant.to_string());
        }
        Err(error) => record.reason = Some(error.to_string()),
    }
    record
}

/// The HTTP method a presigned URL is for.
pub(crate) fn presign_method(method: PresignMethod) -> http::Method {
    match method {
        PresignMethod::Get => http::Method::GET,
        PresignMethod::Head => http::Method::HEAD,
        PresignMethod::Put => http::Method::PUT,
        PresignMethod::Delete => http::Method::DELETE,
    }
}

/// Hands `reader` to the instance as a `wasi:io` input stream, borrowed by the call.
fn input_stream(
    store: &mut Store<StoreState>,
    reader: impl AsyncRead + Send + 'static,
) -> wasmtime::Result<Resource<DynInputStream>> {
    let stream: DynInputStream = Box::new(AsyncReadStream::new(reader));
    let owned = store.data_mut().table.push(stream)?;
    Ok(Resource::new_borrow(owned.rep()))
}

#[cfg(test)]
mod tests {
    /// Engines run calls on multi-threaded runtimes: every call's future must be `Send`.
    #[allow(dead_code)]
    fn calls_are_send(c: &super::Connector) {
        fn send<T: Send>(_: T) {}
        send(c.head_object("b", "k"));
        send(c.put_object("b", "k", tokio::io::empty(), None, Default::default()));
        send(c.get_object("b", "k", tokio::io::sink(), Default::default()));
        send(c.presign(crate::types::PresignRequest {
            method: crate::types::PresignMethod::Get,
            bucket: "b".into(),
            key: "k".into(),
            expires_in_seconds: 60,
        }));
    }
}
