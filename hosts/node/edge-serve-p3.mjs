// Serves the WASI 0.3 edge component (world `edge-p3`: wasi:http/handler@0.3.0) over HTTP in
// Node.js through jco and @bytecodealliance/preview3-shim's HTTP server, beside edge-serve.mjs
// (the WASI 0.2 one). jco runs the component's async export with JSPI, which Node 20 lacks:
// run it with a Node that has JSPI, e.g. Node 24 with --experimental-wasm-jspi. One instance
// serves every request (as `wasmtime serve -S p3` reuses one), settings from a JSON file as
// `wasi:config/store`, no process environment, outgoing requests only to the endpoint.
//
//   node --experimental-wasm-jspi edge-serve-p3.mjs --wasm edge-p3.wasm --config config.json \
//     [--addr 127.0.0.1:8080]
import { parseArgs } from "node:util";
import { createServer } from "node:net";
import { mkdtemp, readFile, writeFile, mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { transpile } from "@bytecodealliance/jco";
import { HttpServer, Response } from "@bytecodealliance/preview3-shim/http";
import { loadConfig } from "./lib/config.mjs";
import { origin } from "./lib/outbound.mjs";
import { configure } from "./lib/p3-imports.mjs";

const usage =
  "usage: node --experimental-wasm-jspi edge-serve-p3.mjs --wasm COMPONENT.wasm --config CONFIG.json [--addr HOST:PORT]";
const fail = (message) => {
  console.error(`edge-serve-p3: ${message}`);
  process.exit(2);
};
const { values: options } = parseArgs({
  options: {
    wasm: { type: "string" },
    config: { type: "string" },
    addr: { type: "string", default: "127.0.0.1:8080" },
  },
});
if (!options.wasm || !options.config) fail(usage);
if (typeof WebAssembly.promising !== "function") {
  fail(`Node ${process.version} has no JSPI (WebAssembly.promising), which jco needs for an async export: run Node 24 with --experimental-wasm-jspi`);
}
const addr = /^(.*):(\d+)$/.exec(options.addr);
if (!addr) fail(`--addr ${options.addr}: give HOST:PORT, for example 127.0.0.1:8080`);

let entries;
let allowed;
try {
  entries = loadConfig(options.config);
  const region = entries.get("region") ?? "us-east-1";
  allowed = origin(entries.get("endpoint") ?? `https://s3.${region}.amazonaws.com`);
} catch (error) {
  fail(error.message);
}
configure({
  entries,
  allowed,
  onDenied: (target) => console.error(`edge-serve-p3: refused an outgoing request to ${target}`),
});

// ESM output (not instantiation mode, see lib/p3-imports.mjs): the replaced imports are mapped to
// that module by absolute URL, so that the component shares the instance configured above.
const imports = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), "lib/p3-imports.mjs")).href;
const { files } = await transpile(await readFile(options.wasm), {
  name: "edge_p3",
  noTypescript: true,
  quiet: true,
  map: {
    "wasi:config/store": `${imports}#config`,
    "wasi:http/outgoing-handler": `${imports}#outgoingHandler`,
    "wasi:cli/environment": `${imports}#environment`,
  },
});
// Under this package's node_modules, so that the output's imports of the shims resolve.
const here = dirname(fileURLToPath(import.meta.url));
await mkdir(join(here, "node_modules/.cache"), { recursive: true });
const dir = await mkdtemp(join(here, "node_modules/.cache/s3-connector-edge-p3-"));
for (const [file, content] of Object.entries(files)) {
  await mkdir(dirname(join(dir, file)), { recursive: true });
  await writeFile(join(dir, file), content);
}
const { handler } = await import(pathToFileURL(join(dir, "edge_p3.js")).href).catch(async (error) => {
  await rm(dir, { recursive: true, force: true });
  throw error;
});

// preview3-shim 0.7.0's server fails a response without a body (`contents` none, which
// wasi:http@0.3.0 allows and the component sends for HEAD and 204): Response.consumeBody then
// gives `null`, which the server cannot read ("response body must provide read()"). Such a body
// is read here as an empty one.
const consumeBody = Response.consumeBody.bind(Response);
Response.consumeBody = (response, res) => {
  const [body, trailers] = consumeBody(response, res);
  return [body ?? { read: async () => null }, trailers];
};

// jco's export resolves to the response or throws the error code; preview3-shim's server
// expects a result (`{tag: "ok", val}`), so the handler is adapted here.
const server = new HttpServer({
  async handle(request) {
    try {
      return { tag: "ok", val: await handler.handle(request) };
    } catch (error) {
      console.error(`edge-serve-p3: the component failed a request: ${error?.message ?? JSON.stringify(error)}`);
      return { tag: "err", val: error };
    }
  },
});
// preview3-shim's server does not say which port it took: port 0 is resolved here first.
let port = Number(addr[2]);
if (port === 0) {
  port = await new Promise((resolve, reject) => {
    const probe = createServer().listen(0, addr[1], () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
    probe.on("error", reject);
  });
}
server.on("error", (error) => {
  // A client that hangs up mid-answer is not the server's failure.
  if (error?.code !== "ERR_STREAM_PREMATURE_CLOSE") console.error(`edge-serve-p3: ${error?.message ?? error}`);
});
await server.listen(port, addr[1]);
console.error(`Serving HTTP on http://${addr[1]}:${port}/`);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close().finally(() => rm(dir, { recursive: true, force: true }).finally(() => process.exit(0)));
  });
}
