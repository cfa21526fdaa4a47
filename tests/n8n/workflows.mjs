// Writes what tests/n8n.sh imports into n8n: the `s3ConnectorApi` credentials (plain JSON;
// `n8n import:credentials` encrypts them), the main workflow (put, list, get, refusals that
// continue) and the refused workflow (one refusal that fails the execution), plus the bytes
// the main workflow puts (bytes.bin) for the script to compare with what came back.
//
//   ENDPOINT=http://127.0.0.1:PORT KEY_ID=... SECRET=... node tests/n8n/workflows.mjs OUT_DIR
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const out = process.argv[2];
const { ENDPOINT, KEY_ID, SECRET } = process.env;
if (!out || !ENDPOINT || !KEY_ID || !SECRET) {
  console.error("usage: ENDPOINT=... KEY_ID=... SECRET=... node workflows.mjs OUT_DIR");
  process.exit(2);
}

export const BUCKET = "n8n-test";
const credentials = { id: "s3connLocalCreds", name: "local S3 (test)" };

// Every byte value, then random bytes: 256 KiB that are not text.
const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(256 * 1024 - 256)]);
writeFileSync(join(out, "bytes.bin"), bytes);

writeFileSync(
  join(out, "credentials.json"),
  JSON.stringify([
    {
      ...credentials,
      type: "s3ConnectorApi",
      data: {
        endpoint: ENDPOINT,
        region: "us-east-1",
        pathStyle: true,
        accessKeyId: KEY_ID,
        secretAccessKey: SECRET,
        sessionToken: "",
        // admin for creating the bucket; objects only under in/; no delete anywhere.
        allow: `${BUCKET}=admin\n${BUCKET}/in/=read,write,list`,
      },
    },
  ]),
  { mode: 0o600 },
);

let x = 0;
const at = () => [(x += 220), 300];
const s3 = (name, parameters, extra = {}) => ({
  name,
  type: "CUSTOM.s3Connector",
  typeVersion: 1,
  position: at(),
  parameters,
  credentials: { s3ConnectorApi: credentials },
  ...extra,
});
const trigger = { name: "Start", type: "n8n-nodes-base.manualTrigger", typeVersion: 1, position: at(), parameters: {} };

/** A workflow of `nodes` wired one after the other. */
function workflow(id, name, nodes) {
  const connections = {};
  for (let i = 0; i + 1 < nodes.length; i++) {
    connections[nodes[i].name] = { main: [[{ node: nodes[i + 1].name, type: "main", index: 0 }]] };
  }
  return { id, name, active: false, nodes: nodes.map((n, i) => ({ id: `node-${id}-${i}`, ...n })), connections, settings: { executionOrder: "v1" }, pinData: {} };
}

const continueOnRefusal = { onError: "continueRegularOutput" };
const main = workflow("s3connMainFlow01", "s3-connector: put, list, get, refused", [
  trigger,
  s3("Create Bucket", { resource: "bucket", operation: "create", bucket: BUCKET }),
  {
    name: "Bytes",
    type: "n8n-nodes-base.set",
    typeVersion: 3.4,
    position: at(),
    parameters: {
      mode: "manual",
      assignments: { assignments: [{ id: "b64", name: "b64", type: "string", value: bytes.toString("base64") }] },
      options: {},
    },
  },
  {
    name: "To File",
    type: "n8n-nodes-base.convertToFile",
    typeVersion: 1.1,
    position: at(),
    parameters: { operation: "toBinary", sourceProperty: "b64", binaryPropertyName: "data", options: { fileName: "bytes.bin", mimeType: "application/octet-stream" } },
  },
  s3("Put Binary", { resource: "object", operation: "upload", bucket: BUCKET, key: "in/bytes.bin", uploadFrom: "binary", binaryPropertyName: "data" }),
  s3("Put JSON", { resource: "object", operation: "upload", bucket: BUCKET, key: "in/hello.json", uploadFrom: "json", json: '{"hello": "n8n"}' }),
  s3("List", { resource: "object", operation: "list", bucket: BUCKET, prefix: "in/" }),
  s3("Get Binary", { resource: "object", operation: "download", bucket: BUCKET, key: "in/bytes.bin", downloadAs: "binary", binaryPropertyName: "data" }),
  {
    name: "Bytes Back",
    type: "n8n-nodes-base.extractFromFile",
    typeVersion: 1.1,
    position: at(),
    parameters: { operation: "binaryToPropery", binaryPropertyName: "data", destinationKey: "roundTrip", options: {} },
  },
  s3("Get JSON", { resource: "object", operation: "download", bucket: BUCKET, key: "in/hello.json", downloadAs: "inline" }),
  s3("Camunda Download", {
    resource: "action",
    operation: "run",
    action: JSON.stringify({
      actionDiscriminator: "downloadObject",
      action: { bucket: BUCKET, key: "in/hello.json", asFile: false },
      configuration: { region: "us-east-1" },
      authentication: { type: "defaultCredentialsChain" },
    }),
  }),
  s3("Get Info", { resource: "object", operation: "getInfo", bucket: BUCKET, key: "in/bytes.bin" }),
  s3("Copy", { resource: "object", operation: "copy", sourceBucket: BUCKET, sourceKey: "in/hello.json", bucket: BUCKET, key: "in/copy.json" }),
  s3("Presign", { resource: "object", operation: "presign", bucket: BUCKET, key: "in/bytes.bin", method: "GET", expiresIn: 600 }),
  s3("Test Connection", { resource: "bucket", operation: "testConnection", bucket: BUCKET, prefix: "in/" }),
  // Refused by the outgoing guard (a key outside in/): nothing may reach S3.
  s3("Put Outside", { resource: "object", operation: "upload", bucket: BUCKET, key: "out/secret.txt", uploadFrom: "text", text: "must not arrive" }, continueOnRefusal),
  // Refused by the credentials callback (no delete rule): nothing may reach S3.
  s3("Delete Denied", { resource: "object", operation: "delete", bucket: BUCKET, key: "in/hello.json" }, continueOnRefusal),
  // Refused before the plugin runs: Camunda keys in the request.
  s3(
    "Camunda Keys",
    {
      resource: "action",
      operation: "run",
      action: JSON.stringify({ actionDiscriminator: "deleteObject", action: { bucket: BUCKET, key: "in/hello.json" }, authentication: { type: "credentials", accessKey: "test", secretKey: "test" } }),
    },
    continueOnRefusal,
  ),
]);
writeFileSync(join(out, "main.json"), JSON.stringify(main));

// The same refusal without "continue": n8n fails the execution with the node's NodeOperationError.
const refused = workflow("s3connRefusedFlw", "s3-connector: refused", [
  trigger,
  s3("Put Outside", { resource: "object", operation: "upload", bucket: BUCKET, key: "out/refused.txt", uploadFrom: "text", text: "must not arrive" }),
]);
writeFileSync(join(out, "refused.json"), JSON.stringify(refused));
