#!/usr/bin/env node
// The plugin component driven from JavaScript, as a Node workflow engine would: put, get and
// list through the typed `client` export, a JSON action through `actions.invoke`, a document
// uploaded and downloaded through the `documents` import, and a file uploaded range by range
// through the `seekable` import. CI runs it against a local
// S3 store (tests/node_hosts.sh); every step checks what it got and exits 1 on a mismatch.
//
//   S3_ENDPOINT=http://127.0.0.1:9000 S3_ACCESS_KEY_ID=... S3_SECRET_ACCESS_KEY=... \
//     node examples/plugin-example.mjs path/to/plugin.wasm
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, createHash } from "node:crypto";
import { directoryDocuments, loadPlugin, Sink, Source } from "../lib/plugin-host.mjs";

const [wasm] = process.argv.slice(2);
const need = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`plugin-example: set ${name} (see the head of this file)`);
    process.exit(2);
  }
  return value;
};
if (!wasm) {
  console.error("usage: node examples/plugin-example.mjs PLUGIN.wasm");
  process.exit(2);
}
const endpoint = need("S3_ENDPOINT");
const keys = { accessKeyId: need("S3_ACCESS_KEY_ID"), secretAccessKey: need("S3_SECRET_ACCESS_KEY") };

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? "PASS" : "FAIL"}: ${what}`);
  if (!ok) failures += 1;
}
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

const documentsDir = await mkdtemp(join(tmpdir(), "s3-connector-documents-"));
const plugin = await loadPlugin(wasm, {
  connection: { endpoint, region: "us-east-1", pathStyle: true, maxAttempts: 2 },
  // A real engine would look up the tenant's credentials and refuse scopes it does not allow.
  credentials: (scope) => {
    if (scope.bucket !== undefined && !scope.bucket.startsWith("node-example")) {
      throw `bucket ${scope.bucket} is not this workflow's`;
    }
    return keys;
  },
  documents: directoryDocuments(documentsDir),
});
// jco turns a `result` error into a thrown ComponentError whose payload is the error value.
const attempt = (fn) => {
  try {
    return { ok: fn() };
  } catch (error) {
    return { error: error.payload ?? error };
  }
};
// jco wants every record field that is not an `option`: the lists and the nested records.
const putOptions = { contentType: "text/plain", metadata: [], tags: [], conditions: {} };
const getOptions = { conditions: {} };

try {
  const bucket = "node-example";
  // Every call below runs in a fresh instance: nothing of one call is left for the next.
  plugin.call(({ client }) => client.createBucket(bucket));
  check(true, `createBucket ${bucket}`);

  const text = new TextEncoder().encode("hello from node\n");
  const put = plugin.call(({ client }) => client.putObjectBytes({ bucket, key: "greeting.txt" }, text, putOptions));
  check(typeof put.etag === "string" && put.etag.length > 0, `putObjectBytes greeting.txt -> etag ${put.etag}`);

  const info = plugin.call(({ client }) => client.headObject({ bucket, key: "greeting.txt" }, getOptions));
  check(info.size === BigInt(text.length) && info.contentType === "text/plain", `headObject -> ${info.size} bytes, ${info.contentType}`);

  const listed = plugin.call(({ client }) => client.listObjects(bucket, {}));
  check(listed.objects.map((o) => o.key).join(",") === "greeting.txt", `listObjects -> ${listed.objects.map((o) => o.key)}`);

  // A JSON action, as a workflow engine's connector task sends it.
  const invoked = plugin.call(({ actions }) =>
    actions.invoke(JSON.stringify({ action: "downloadDocument", bucket, key: "greeting.txt", createDocument: false }), {
      maxInlineBytes: 1024n * 1024n,
    }),
  );
  const answer = JSON.parse(invoked);
  check(JSON.stringify(answer).includes("hello from node"), `invoke downloadDocument (inline content) -> ${invoked.slice(0, 160)}`);

  // A document of 20 MiB up (uploadDocument reads it as a stream) and down (downloadDocument
  // writes a new document), bytes compared.
  const large = randomBytes(20 * 1024 * 1024);
  await writeFile(join(documentsDir, "large-input.bin"), large);
  const uploaded = JSON.parse(
    plugin.call(({ actions }) =>
      actions.invoke(
        JSON.stringify({ action: "uploadDocument", bucket, key: "large.bin", document: { storeId: "fs", documentId: "large-input.bin" } }),
        { maxInlineBytes: 0n },
      ),
    ),
  );
  check(uploaded.key === "large.bin" && typeof uploaded.etag === "string", `invoke uploadDocument (20 MiB document) -> ${JSON.stringify(uploaded).slice(0, 160)}`);
  const downloaded = JSON.parse(
    plugin.call(({ actions }) =>
      actions.invoke(JSON.stringify({ action: "downloadDocument", bucket, key: "large.bin", createDocument: true }), { maxInlineBytes: 0n }),
    ),
  );
  const documentId = downloaded.document?.documentId;
  const back = documentId ? await readFile(join(documentsDir, documentId)) : Buffer.alloc(0);
  check(back.length === large.length && sha256(back) === sha256(large), `invoke downloadDocument (new document) -> ${back.length} bytes, same sha256`);

  // A 20 MiB file through `putObjectFrom`: over the 16 MiB threshold, so a multipart upload
  // whose parts the host streams from the file's ranges; read back as a document, compared.
  const filePath = join(documentsDir, "from-file.bin");
  await writeFile(filePath, large);
  const fromFile = plugin.call(({ client }) => client.putObjectFrom({ bucket, key: "from-file.bin" }, new Source(filePath), putOptions));
  check(typeof fromFile.etag === "string" && fromFile.etag.includes("-"), `putObjectFrom (20 MiB file, multipart) -> etag ${fromFile.etag}`);
  const fileBack = JSON.parse(
    plugin.call(({ actions }) =>
      actions.invoke(JSON.stringify({ action: "downloadDocument", bucket, key: "from-file.bin", createDocument: true }), { maxInlineBytes: 0n }),
    ),
  );
  const fileBytes = fileBack.document ? await readFile(join(documentsDir, fileBack.document.documentId)) : Buffer.alloc(0);
  check(fileBytes.length === large.length && sha256(fileBytes) === sha256(large), `downloadDocument of the file's object -> ${fileBytes.length} bytes, same sha256`);

  // The same object back through `getObjectInto` in 1 MiB ranges, 4 in flight, each written
  // into the file at its offset as it arrives; compared.
  const intoPath = join(documentsDir, "into-file.bin");
  const rangeOptions = { conditions: {}, parallelRanges: 4, rangeSize: 1048576n };
  const into = plugin.call(({ client }) => client.getObjectInto({ bucket, key: "from-file.bin" }, new Sink(intoPath), rangeOptions));
  const intoBytes = await readFile(intoPath);
  check(into.size === BigInt(large.length) && sha256(intoBytes) === sha256(large), `getObjectInto (4 ranges in flight) -> ${intoBytes.length} bytes, same sha256`);

  // The host's credentials callback refuses other buckets: the plugin reports it, no request goes out.
  const refused = attempt(() => plugin.call(({ client }) => client.headBucket("someone-elses-bucket")));
  check(refused.error?.tag === "access-denied", `headBucket on a bucket the host refuses -> ${refused.error?.tag}`);

  for (const key of ["greeting.txt", "large.bin", "from-file.bin"]) plugin.call(({ client }) => client.deleteObject({ bucket, key }, undefined));
  plugin.call(({ client }) => client.deleteBucket(bucket));
  check(true, "deleteObject x3, deleteBucket");
} catch (error) {
  check(false, `unexpected error: ${JSON.stringify(error.payload ?? error.message ?? error)}`);
} finally {
  await plugin.dispose();
  await rm(documentsDir, { recursive: true, force: true });
}
console.log(failures === 0 ? "plugin example: all checks passed" : `plugin example: ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
