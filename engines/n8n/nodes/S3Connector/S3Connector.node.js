// The n8n node `S3 Connector` (name `s3Connector`) of n8n-nodes-s3-connector (issue 33, item 2):
// each item becomes one JSON action of s3-connector (README's "JSON actions"), run by the
// sandboxed plugin component in n8n's process through the Node engines' connector of
// hosts/node (lib/connector.mjs, shared with the Node-RED node): the `s3ConnectorApi`
// credentials' allow rules decide on every scope and every outgoing request before anything
// reaches S3, and the component gets signing keys derived from the secret, never the secret.
// Plain CommonJS, as n8n loads it; `n8n-workflow` is n8n's own (n8n puts its modules on
// NODE_PATH for community nodes).
const path = require("node:path");
const { createReadStream } = require("node:fs");
const { NodeOperationError } = require("n8n-workflow");

const DEFAULT_WASM = path.join(__dirname, "..", "..", "..", "..", "target", "plugin", "wasm32-wasip2", "plugin", "s3_connector_plugin.wasm");

const bucketField = (operations, resource, extra = {}) => ({
  displayName: "Bucket",
  name: "bucket",
  type: "string",
  default: "",
  required: true,
  placeholder: "invoices",
  displayOptions: { show: { resource: [resource], operation: operations } },
  ...extra,
});
const keyField = (operations, extra = {}) => ({
  displayName: "Key",
  name: "key",
  type: "string",
  default: "",
  required: true,
  placeholder: "2026/invoice-7.pdf",
  displayOptions: { show: { resource: ["object"], operation: operations } },
  ...extra,
});
const show = (resource, operations) => ({ show: { resource: [resource], operation: operations } });

/** Each operation: the JSON action it is. */
const ACTIONS = {
  object: {
    upload: "uploadDocument",
    download: "downloadDocument",
    delete: "deleteDocument",
    deleteMany: "deleteObjects",
    getInfo: "headObject",
    list: "listObjects",
    copy: "copyObject",
    move: "moveObject",
    presign: "presign",
    getTags: "getObjectTags",
    putTags: "putObjectTags",
  },
  bucket: {
    create: "createBucket",
    delete: "deleteBucket",
    list: "listBuckets",
    testConnection: "testConnection",
  },
  prefix: {
    copy: "copyPrefix",
    sync: "syncPrefix",
  },
};

const properties = [
  {
    displayName: "Resource",
    name: "resource",
    type: "options",
    noDataExpression: true,
    options: [
      { name: "Object", value: "object" },
      { name: "Bucket", value: "bucket" },
      { name: "Prefix", value: "prefix" },
      { name: "JSON Action", value: "action", description: "Any JSON action, in s3-connector's shape or Camunda's" },
    ],
    default: "object",
  },
  {
    displayName: "Operation",
    name: "operation",
    type: "options",
    noDataExpression: true,
    displayOptions: { show: { resource: ["object"] } },
    options: [
      { name: "Copy", value: "copy", action: "Copy an object", description: "CopyObject (copyObject)" },
      { name: "Delete", value: "delete", action: "Delete an object", description: "DeleteObject (deleteDocument)" },
      { name: "Delete Many", value: "deleteMany", action: "Delete objects", description: "Keys, or everything under a prefix (deleteObjects)" },
      { name: "Download", value: "download", action: "Download an object", description: "Into a binary property, or inline in the JSON (downloadDocument)" },
      { name: "Get Info", value: "getInfo", action: "Get an object's information", description: "HeadObject (headObject)" },
      { name: "Get Tags", value: "getTags", action: "Get an object's tags", description: "GetObjectTagging (getObjectTags)" },
      { name: "List", value: "list", action: "List objects", description: "ListObjectsV2, one page (listObjects)" },
      { name: "Move", value: "move", action: "Move an object", description: "Copy, then delete the source (moveObject)" },
      { name: "Presign", value: "presign", action: "Presign a URL for an object", description: "A presigned URL (presign)" },
      { name: "Put Tags", value: "putTags", action: "Put an object's tags", description: "PutObjectTagging (putObjectTags)" },
      { name: "Upload", value: "upload", action: "Upload an object", description: "From a binary property, text or JSON (uploadDocument)" },
    ],
    default: "upload",
  },
  {
    displayName: "Operation",
    name: "operation",
    type: "options",
    noDataExpression: true,
    displayOptions: { show: { resource: ["bucket"] } },
    options: [
      { name: "Create", value: "create", action: "Create a bucket", description: "CreateBucket in the credentials' region (createBucket)" },
      { name: "Delete", value: "delete", action: "Delete a bucket", description: "DeleteBucket; it must be empty (deleteBucket)" },
      { name: "List", value: "list", action: "List buckets", description: "ListBuckets; needs a *=list rule (listBuckets)" },
      { name: "Test Connection", value: "testConnection", action: "Test the connection", description: "Endpoint, credentials, policy and bucket, each checked (testConnection)" },
    ],
    default: "list",
  },
  {
    displayName: "Operation",
    name: "operation",
    type: "options",
    noDataExpression: true,
    displayOptions: { show: { resource: ["prefix"] } },
    options: [
      { name: "Copy", value: "copy", action: "Copy every object under a prefix", description: "copyPrefix" },
      { name: "Sync", value: "sync", action: "Sync a prefix to another", description: "syncPrefix" },
    ],
    default: "copy",
  },
  {
    displayName: "Operation",
    name: "operation",
    type: "options",
    noDataExpression: true,
    displayOptions: { show: { resource: ["action"] } },
    options: [{ name: "Run", value: "run", action: "Run a JSON action" }],
    default: "run",
  },

  // Object
  bucketField(["upload", "download", "delete", "deleteMany", "getInfo", "list", "copy", "move", "presign", "getTags", "putTags"], "object", {
    displayName: "Bucket",
    description: "For Copy and Move: the destination bucket",
  }),
  keyField(["upload"], { required: false, description: "The object's key; the binary's file name when empty" }),
  keyField(["download", "delete", "getInfo", "presign", "getTags", "putTags"]),
  keyField(["copy", "move"], { displayName: "Key", description: "The destination key" }),
  {
    displayName: "Source Bucket",
    name: "sourceBucket",
    type: "string",
    default: "",
    required: true,
    displayOptions: show("object", ["copy", "move"]),
  },
  {
    displayName: "Source Key",
    name: "sourceKey",
    type: "string",
    default: "",
    required: true,
    displayOptions: show("object", ["copy", "move"]),
  },
  {
    displayName: "Input",
    name: "uploadFrom",
    type: "options",
    options: [
      { name: "Binary Property", value: "binary", description: "The item's binary data (streamed to S3; multipart over 16 MiB)" },
      { name: "Text", value: "text" },
      { name: "JSON", value: "json" },
    ],
    default: "binary",
    displayOptions: show("object", ["upload"]),
  },
  {
    displayName: "Input Binary Field",
    name: "binaryPropertyName",
    type: "string",
    default: "data",
    required: true,
    displayOptions: { show: { resource: ["object"], operation: ["upload"], uploadFrom: ["binary"] } },
  },
  {
    displayName: "Text",
    name: "text",
    type: "string",
    typeOptions: { rows: 4 },
    default: "",
    displayOptions: { show: { resource: ["object"], operation: ["upload"], uploadFrom: ["text"] } },
  },
  {
    displayName: "JSON",
    name: "json",
    type: "json",
    default: "{}",
    displayOptions: { show: { resource: ["object"], operation: ["upload"], uploadFrom: ["json"] } },
  },
  {
    displayName: "Upload Options",
    name: "uploadOptions",
    type: "collection",
    placeholder: "Add Option",
    default: {},
    displayOptions: show("object", ["upload"]),
    options: [
      { displayName: "Cache Control", name: "cacheControl", type: "string", default: "" },
      { displayName: "Content Disposition", name: "contentDisposition", type: "string", default: "" },
      { displayName: "Content Type", name: "contentType", type: "string", default: "", description: "Overrides the binary's MIME type" },
      { displayName: "Encryption", name: "encryption", type: "options", options: [{ name: "AES256", value: "AES256" }, { name: "AWS KMS", value: "aws:kms" }], default: "AES256" },
      { displayName: "If Not Exists", name: "ifNotExists", type: "boolean", default: false, description: "Whether to write only if no object exists at the key (If-None-Match: *)" },
      { displayName: "KMS Key ID", name: "kmsKeyId", type: "string", default: "", description: "With Encryption AWS KMS" },
      { displayName: "Metadata (JSON)", name: "metadata", type: "json", default: "{}", description: "User metadata, an object of strings" },
      { displayName: "Storage Class", name: "storageClass", type: "string", default: "", placeholder: "STANDARD" },
      { displayName: "Tags (JSON)", name: "tags", type: "json", default: "{}", description: "Object tags, an object of strings" },
    ],
  },
  {
    displayName: "Output",
    name: "downloadAs",
    type: "options",
    options: [
      { name: "Binary Property", value: "binary", description: "The object's bytes as the item's binary data (streamed from S3)" },
      { name: "Inline JSON", value: "inline", description: "As content in the answer: text, JSON or base64 by content type, up to 8 MiB" },
    ],
    default: "binary",
    displayOptions: show("object", ["download"]),
  },
  {
    displayName: "Put Output File in Field",
    name: "binaryPropertyName",
    type: "string",
    default: "data",
    required: true,
    displayOptions: { show: { resource: ["object"], operation: ["download"], downloadAs: ["binary"] } },
  },
  {
    displayName: "Prefix",
    name: "prefix",
    type: "string",
    default: "",
    displayOptions: show("object", ["list", "deleteMany"]),
    description: "For Delete Many: delete every object under it (instead of Keys)",
  },
  {
    displayName: "Keys",
    name: "keys",
    type: "string",
    typeOptions: { rows: 4 },
    default: "",
    displayOptions: show("object", ["deleteMany"]),
    description: "One key per line",
  },
  {
    displayName: "List Options",
    name: "listOptions",
    type: "collection",
    placeholder: "Add Option",
    default: {},
    displayOptions: show("object", ["list"]),
    options: [
      { displayName: "Continuation Token", name: "continuationToken", type: "string", default: "" },
      { displayName: "Delimiter", name: "delimiter", type: "string", default: "" },
      { displayName: "Max Keys", name: "maxKeys", type: "number", typeOptions: { minValue: 0 }, default: 1000 },
    ],
  },
  {
    displayName: "Method",
    name: "method",
    type: "options",
    options: ["GET", "PUT", "DELETE", "HEAD"].map((m) => ({ name: m, value: m })),
    default: "GET",
    displayOptions: show("object", ["presign"]),
  },
  {
    displayName: "Expires In (Seconds)",
    name: "expiresIn",
    type: "number",
    typeOptions: { minValue: 1, maxValue: 604800 },
    default: 3600,
    displayOptions: show("object", ["presign"]),
  },
  {
    displayName: "Tags (JSON)",
    name: "tags",
    type: "json",
    default: "{}",
    required: true,
    displayOptions: show("object", ["putTags"]),
  },

  // Bucket
  bucketField(["create", "delete"], "bucket"),
  bucketField(["testConnection"], "bucket", { required: false, description: "The bucket to check; none checks the endpoint and credentials only" }),
  {
    displayName: "Prefix",
    name: "prefix",
    type: "string",
    default: "",
    displayOptions: show("bucket", ["testConnection"]),
  },

  // Prefix
  {
    displayName: "Source Bucket",
    name: "sourceBucket",
    type: "string",
    default: "",
    required: true,
    displayOptions: show("prefix", ["copy", "sync"]),
  },
  {
    displayName: "Source Prefix",
    name: "sourcePrefix",
    type: "string",
    default: "",
    required: true,
    displayOptions: show("prefix", ["copy", "sync"]),
  },
  bucketField(["copy", "sync"], "prefix", { description: "The destination bucket" }),
  {
    displayName: "Prefix",
    name: "prefix",
    type: "string",
    default: "",
    required: true,
    description: "The destination prefix",
    displayOptions: show("prefix", ["copy", "sync"]),
  },
  {
    displayName: "Dry Run",
    name: "dryRun",
    type: "boolean",
    default: false,
    description: "Whether to only report what would be copied and deleted",
    displayOptions: show("prefix", ["sync"]),
  },
  {
    displayName: "Delete Extra Objects",
    name: "delete",
    type: "boolean",
    default: false,
    description: "Whether to delete destination objects the source does not have",
    displayOptions: show("prefix", ["sync"]),
  },

  // JSON action
  {
    displayName: "Action (JSON)",
    name: "action",
    type: "json",
    default: '{"action": "listObjects", "bucket": "invoices", "prefix": "2026/"}',
    required: true,
    description: "One JSON action (schema/actions.schema.json) or Camunda's request",
    displayOptions: show("action", ["run"]),
  },
];

/** A json parameter's value as an object (n8n gives text or an object). */
function jsonValue(ctx, name, i) {
  const value = ctx.getNodeParameter(name, i);
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new NodeOperationError(ctx.getNode(), `invalid-json: the "${name}" field is not JSON: ${error.message}`, { itemIndex: i });
  }
}

const nonEmpty = (object) => Object.fromEntries(Object.entries(object).filter(([, v]) => v !== "" && v !== undefined && !(typeof v === "object" && v !== null && !Object.keys(v).length)));

/**
 * Item `i` as `{ request, upload, downloadField }`: the JSON action, the body to upload
 * (from a binary property, the connector streams it), and the binary field to download into.
 */
async function itemAction(ctx, resource, operation, i) {
  if (resource === "action") return { request: jsonValue(ctx, "action", i) };
  const action = ACTIONS[resource]?.[operation];
  if (!action) throw new NodeOperationError(ctx.getNode(), `invalid-field: no operation "${operation}" for "${resource}"`, { itemIndex: i });
  const p = (name, fallback) => ctx.getNodeParameter(name, i, fallback);
  const request = { action };
  switch (action) {
    case "uploadDocument": {
      request.bucket = p("bucket");
      const options = p("uploadOptions", {});
      const { contentType, encryption, kmsKeyId, ...rest } = options;
      const objectOptions = nonEmpty({
        ...rest,
        metadata: rest.metadata === undefined ? undefined : parseJson(ctx, rest.metadata, "metadata", i),
        tags: rest.tags === undefined ? undefined : parseJson(ctx, rest.tags, "tags", i),
        encryption: encryption ? nonEmpty({ type: encryption, kmsKeyId: encryption === "aws:kms" ? kmsKeyId : undefined }) : undefined,
      });
      const from = p("uploadFrom");
      let upload;
      let key = p("key", "");
      if (from === "binary") {
        const field = p("binaryPropertyName");
        const binary = ctx.helpers.assertBinaryData(i, field);
        const source = binary.id ? await ctx.helpers.getBinaryStream(binary.id) : await ctx.helpers.getBinaryDataBuffer(i, field);
        key ||= binary.fileName;
        upload = { source, contentType: contentType || binary.mimeType, fileName: binary.fileName ?? path.posix.basename(key || "object") };
      } else {
        if (contentType) objectOptions.contentType = contentType;
        request.content = from === "text" ? { text: p("text") } : { json: jsonValue(ctx, "json", i) };
      }
      if (key) request.key = key;
      if (Object.keys(objectOptions).length) request.options = objectOptions;
      return { request, upload };
    }
    case "downloadDocument": {
      Object.assign(request, { bucket: p("bucket"), key: p("key") });
      if (p("downloadAs") === "binary") return { request, downloadField: p("binaryPropertyName") };
      request.createDocument = false;
      return { request };
    }
    case "deleteDocument":
    case "headObject":
    case "getObjectTags":
      return { request: Object.assign(request, { bucket: p("bucket"), key: p("key") }) };
    case "putObjectTags":
      return { request: Object.assign(request, { bucket: p("bucket"), key: p("key"), tags: jsonValue(ctx, "tags", i) }) };
    case "presign":
      return { request: Object.assign(request, { bucket: p("bucket"), key: p("key"), method: p("method"), expiresIn: p("expiresIn") }) };
    case "listObjects":
      return { request: Object.assign(request, nonEmpty({ bucket: p("bucket"), prefix: p("prefix", ""), ...p("listOptions", {}) })) };
    case "deleteObjects": {
      const keys = String(p("keys", "")).split(/\r?\n/).map((k) => k.trim()).filter(Boolean);
      return { request: Object.assign(request, nonEmpty({ bucket: p("bucket"), keys: keys.length ? keys : undefined, prefix: p("prefix", "") })) };
    }
    case "copyObject":
    case "moveObject":
      return { request: Object.assign(request, { sourceBucket: p("sourceBucket"), sourceKey: p("sourceKey"), bucket: p("bucket"), key: p("key") }) };
    case "createBucket":
    case "deleteBucket":
      return { request: Object.assign(request, { bucket: p("bucket") }) };
    case "listBuckets":
      return { request };
    case "testConnection":
      return { request: Object.assign(request, nonEmpty({ bucket: p("bucket", ""), prefix: p("prefix", "") })) };
    case "copyPrefix":
    case "syncPrefix": {
      Object.assign(request, { sourceBucket: p("sourceBucket"), sourcePrefix: p("sourcePrefix"), bucket: p("bucket"), prefix: p("prefix") });
      if (action === "syncPrefix") Object.assign(request, { dryRun: p("dryRun"), delete: p("delete") });
      return { request };
    }
  }
  throw new NodeOperationError(ctx.getNode(), `invalid-field: no operation for the action ${action}`, { itemIndex: i });
}

function parseJson(ctx, value, name, i) {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new NodeOperationError(ctx.getNode(), `invalid-json: the option "${name}" is not JSON: ${error.message}`, { itemIndex: i });
  }
}

class S3Connector {
  constructor() {
    this.description = {
      displayName: "S3 Connector",
      name: "s3Connector",
      icon: "file:s3connector.svg",
      group: ["output"],
      version: 1,
      subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
      description: "S3 through s3-connector's sandboxed plugin component, under the credentials' allow rules",
      defaults: { name: "S3 Connector" },
      inputs: ["main"],
      outputs: ["main"],
      usableAsTool: true,
      credentials: [{ name: "s3ConnectorApi", required: true }],
      properties,
    };
  }

  async execute() {
    const items = this.getInputData();
    const credentials = await this.getCredentials("s3ConnectorApi");
    const { createConnector } = await import("s3-connector-node-host/lib/connector.mjs");
    let connector;
    try {
      connector = await createConnector({
        wasm: process.env.S3_CONNECTOR_PLUGIN_WASM || DEFAULT_WASM,
        endpoint: credentials.endpoint,
        region: credentials.region || "us-east-1",
        pathStyle: credentials.pathStyle === true,
        allow: credentials.allow,
        keys: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken },
        log: (line) => this.logger.warn(`S3 Connector: ${line}`),
        place: 'the "S3 Connector API" credentials',
        tempPrefix: "n8n-s3-connector-",
      });
    } catch (error) {
      throw new NodeOperationError(this.getNode(), `invalid-config: ${error.message}`);
    }
    const resource = this.getNodeParameter("resource", 0);
    const operation = this.getNodeParameter("operation", 0);
    const out = [];
    try {
      for (let i = 0; i < items.length; i++) {
        try {
          const { request, upload, downloadField } = await itemAction(this, resource, operation, i);
          const download = downloadField
            ? (file, answer) => this.helpers.prepareBinaryData(createReadStream(file), path.posix.basename(answer.key ?? request.key), answer.contentType ?? undefined)
            : undefined;
          const { answer, body } = await connector.invoke(request, { upload, download });
          const item = { json: answer, pairedItem: { item: i } };
          if (body !== undefined) item.binary = { ...(items[i].binary ?? {}), [downloadField]: body };
          out.push(item);
        } catch (thrown) {
          const error =
            thrown instanceof NodeOperationError
              ? thrown
              : new NodeOperationError(this.getNode(), thrown.message ?? String(thrown), {
                  itemIndex: i,
                  description: thrown.error ? JSON.stringify(thrown.error) : undefined,
                });
          if (this.continueOnFail()) {
            out.push({ json: { error: error.message, s3Error: thrown.error ?? null }, pairedItem: { item: i } });
            continue;
          }
          throw error;
        }
      }
    } finally {
      await connector.close();
    }
    return [out];
  }
}

module.exports = { S3Connector };
