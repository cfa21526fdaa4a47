// Node-RED itself (4.x, through node-red-node-test-helper, which starts the real runtime
// headless) runs a flow inject -> s3-connector -> helper node, with a catch node, against a
// local S3 server: puts (JSON content and a Buffer), lists, gets (JSON answer, Buffer, Camunda's
// request) and is refused by the config node's policy, checked to send nothing to S3. Between
// the node and the server sits a counting loopback proxy, the test's witness of what reached S3;
// it runs in a worker thread, because the plugin's calls block Node's main thread while they
// wait for S3 (preview2-shim runs the guest synchronously), so a proxy on the main thread
// would never answer.
//
//   S3_ENDPOINT=http://127.0.0.1:PORT S3_ACCESS_KEY_ID=... S3_SECRET_ACCESS_KEY=... \
//     S3_CONNECTOR_PLUGIN_WASM=path/to/plugin.wasm node --test test/
// (tests/node_red.sh starts the server and sets these.)
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { Worker } = require("node:worker_threads");
const helper = require("node-red-node-test-helper");
const injectNode = require("@node-red/nodes/core/common/20-inject.js");
const catchNode = require("@node-red/nodes/core/common/25-catch.js");
const s3Node = require("../s3-connector.js");

for (const name of ["S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_CONNECTOR_PLUGIN_WASM"]) {
  if (!process.env[name]) throw new Error(`set ${name} (see the head of this file, or run tests/node_red.sh)`);
}
helper.init(require.resolve("node-red"));

// The proxy: forwards every request to S3_ENDPOINT as it came (Host included: the signature
// covers it) and keeps "METHOD /path?query" of each; answers "list" with what it kept.
const PROXY = `
const http = require("node:http");
const { parentPort, workerData } = require("node:worker_threads");
const upstream = new URL(workerData);
const seen = [];
const server = http.createServer((req, res) => {
  seen.push(req.method + " " + req.url);
  const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  out.on("error", (error) => res.destroy(error));
  req.pipe(out);
});
server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port }));
parentPort.on("message", (m) => (m === "list" ? parentPort.postMessage({ seen }) : server.close(() => process.exit(0))));
`;
let proxy;
let proxyEndpoint;
/** What reached the S3 server so far, asked of the proxy's thread. */
function seenByS3() {
  return new Promise((resolve) => {
    proxy.once("message", (m) => resolve(m.seen));
    proxy.postMessage("list");
  });
}

before(async () => {
  proxy = new Worker(PROXY, { eval: true, workerData: process.env.S3_ENDPOINT });
  const { port } = await new Promise((ok) => proxy.once("message", ok));
  proxyEndpoint = `http://127.0.0.1:${port}`;
  await new Promise((ok) => helper.startServer(ok));
});

after(async () => {
  await helper.unload();
  await new Promise((ok) => helper.stopServer(ok));
  proxy.postMessage("stop");
  await new Promise((ok) => proxy.once("exit", ok));
});

const inject = (id, payload, extra = []) => ({
  id,
  type: "inject",
  props: [{ p: "payload" }, ...extra.map(([p, v, vt]) => ({ p, v, vt }))],
  payload: typeof payload === "string" ? payload : JSON.stringify(payload),
  payloadType: typeof payload === "string" ? "bin" : "json",
  repeat: "",
  once: false,
  wires: [["s3"]],
});

const BUCKET = "node-red-test";
const flow = [
  {
    id: "cfg",
    type: "s3-connector-config",
    endpoint: "", // set in the test: the proxy's address
    region: "us-east-1",
    pathStyle: true,
    // admin for creating the bucket; objects only under in/; no delete anywhere.
    allow: `${BUCKET}=admin\n${BUCKET}/in/=read,write,list`,
  },
  { id: "s3", type: "s3-connector", server: "cfg", wires: [["out"]] },
  { id: "out", type: "helper" },
  { id: "catcher", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
  { id: "caught", type: "helper" },
  inject("createBucket", { action: "createBucket", bucket: BUCKET }),
  inject("putJson", { action: "uploadDocument", bucket: BUCKET, key: "in/hello.json", content: { json: { hello: "node-red" } } }),
  inject("putBuffer", "[0,1,2,255,104,105]", [["s3", JSON.stringify({ action: "uploadDocument", bucket: BUCKET, key: "in/bytes.bin", contentType: "application/octet-stream" }), "json"]]),
  inject("list", { action: "listObjects", bucket: BUCKET, prefix: "in/" }),
  inject("getJson", { action: "downloadDocument", bucket: BUCKET, key: "in/hello.json" }),
  inject("getBuffer", { action: "downloadDocument", bucket: BUCKET, key: "in/bytes.bin", asBuffer: true }),
  inject("getCamunda", {
    actionDiscriminator: "downloadObject",
    action: { bucket: BUCKET, key: "in/hello.json", asFile: false },
    configuration: { region: "us-east-1" },
    authentication: { type: "defaultCredentialsChain" },
  }),
  inject("putOutside", { action: "uploadDocument", bucket: BUCKET, key: "out/secret.txt", content: { text: "must not arrive" } }),
  inject("deleteDenied", { action: "deleteDocument", bucket: BUCKET, key: "in/hello.json" }),
  inject("camundaKeys", {
    actionDiscriminator: "deleteObject",
    action: { bucket: BUCKET, key: "in/hello.json" },
    authentication: { type: "credentials", accessKey: "test", secretKey: "test" },
  }),
];

/** Triggers inject node `id` and waits for what the flow's `out` or `catch` gives back. */
function trigger(id) {
  const out = helper.getNode("out");
  const caught = helper.getNode("caught");
  return new Promise((resolve) => {
    const finish = (kind) => (msg) => {
      out.removeAllListeners("input");
      caught.removeAllListeners("input");
      resolve({ kind, msg });
    };
    out.once("input", finish("out"));
    caught.once("input", finish("caught"));
    helper.getNode(id).receive({});
  });
}

test("Node-RED runs the s3-connector node: put, list, get, and the policy refuses before S3 sees anything", async () => {
  // Every flow node on one tab (the catch node needs one); the config node on none.
  const nodes = [
    { id: "tab", type: "tab", label: "s3-connector test" },
    ...flow.map((n) => (n.id === "cfg" ? { ...n, endpoint: proxyEndpoint } : { ...n, z: "tab" })),
  ];
  const credentials = { cfg: { accessKeyId: process.env.S3_ACCESS_KEY_ID, secretAccessKey: process.env.S3_SECRET_ACCESS_KEY } };
  await helper.load([s3Node, injectNode, catchNode], nodes, credentials);

  let r = await trigger("createBucket");
  assert.equal(r.kind, "out", JSON.stringify(r.msg.error));
  assert.equal(r.msg.payload.bucket, BUCKET);

  r = await trigger("putJson");
  assert.equal(r.kind, "out", JSON.stringify(r.msg.error));
  assert.equal(r.msg.payload.key, "in/hello.json");
  assert.equal(typeof r.msg.payload.etag, "string");

  r = await trigger("putBuffer");
  assert.equal(r.kind, "out", JSON.stringify(r.msg.error));
  assert.equal(r.msg.payload.key, "in/bytes.bin");

  r = await trigger("list");
  assert.equal(r.kind, "out", JSON.stringify(r.msg.error));
  assert.deepEqual(r.msg.payload.objects.map((o) => o.key).sort(), ["in/bytes.bin", "in/hello.json"]);

  r = await trigger("getJson");
  assert.equal(r.kind, "out", JSON.stringify(r.msg.error));
  assert.deepEqual(r.msg.payload.content, { json: { hello: "node-red" } });

  r = await trigger("getBuffer");
  assert.equal(r.kind, "out", JSON.stringify(r.msg.error));
  assert.ok(Buffer.isBuffer(r.msg.payload));
  assert.deepEqual([...r.msg.payload], [0, 1, 2, 255, 104, 105]);
  assert.equal(r.msg.s3.key, "in/bytes.bin");

  r = await trigger("getCamunda");
  assert.equal(r.kind, "out", JSON.stringify(r.msg.error));
  assert.equal(r.msg.payload.key, "in/hello.json");
  assert.ok(JSON.stringify(r.msg.payload).includes("node-red"));

  // Refusals: each goes to the catch node, its message starting with the JSON error's code,
  // and nothing reaches the S3 server.
  for (const [id, code, why] of [
    ["putOutside", "denied-by-host", /out\/secret\.txt/],
    ["deleteDenied", "denied-by-host", /delete/],
    ["camundaKeys", "invalid-field", /authentication\.type/],
  ]) {
    const before = (await seenByS3()).length;
    r = await trigger(id);
    assert.equal(r.kind, "caught", `${id}: ${JSON.stringify(r.msg.payload)}`);
    assert.ok(r.msg.error.message.startsWith(`${code}: `), `${id}: ${r.msg.error.message}`);
    assert.match(r.msg.error.message, why);
    assert.equal(r.msg.s3Error.code, code);
    assert.deepEqual((await seenByS3()).slice(before), [], `${id}: the S3 server saw requests`);
    console.log(`refused ${id}: ${r.msg.error.message}`);
  }
  const seen = await seenByS3();
  assert.ok(!seen.some((line) => line.includes("out/secret")), "a request for out/secret.txt reached S3");
  console.log(`the S3 server saw ${seen.length} requests: ${seen.join(", ")}`);
});
