#!/usr/bin/env node
// Serves the s3-connector edge component (world `edge`) over HTTP in Node.js through jco:
// a fresh instance per request, settings from a JSON file as `wasi:config/store`, no process
// environment, outgoing requests only to the configured endpoint. See hosts/node/README.md and docs/hosts.md.
//
//   node edge-serve.mjs --wasm edge.wasm --config config.json [--addr 127.0.0.1:8080]
//
// Prints `Serving HTTP on http://HOST:PORT/` on stderr once it listens (like `wasmtime serve`).
import { parseArgs } from "node:util";
import { HTTPServer } from "@bytecodealliance/preview2-shim/http";
import { loadComponent } from "./lib/component.mjs";
import { freshInstanceHandler } from "./lib/edge-handler.mjs";
import { configStore, loadConfig } from "./lib/config.mjs";
import { componentImports } from "./lib/imports.mjs";
import { origin } from "./lib/outbound.mjs";

const usage = "usage: node edge-serve.mjs --wasm COMPONENT.wasm --config CONFIG.json [--addr HOST:PORT]";

function fail(message) {
  console.error(`edge-serve: ${message}`);
  process.exit(2);
}

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      wasm: { type: "string" },
      config: { type: "string" },
      addr: { type: "string", default: "127.0.0.1:8080" },
    },
  }));
} catch (error) {
  fail(`${error.message}\n${usage}`);
}
if (!options.wasm || !options.config) fail(usage);
const addr = /^(.*):(\d+)$/.exec(options.addr);
if (!addr) fail(`--addr ${options.addr}: give HOST:PORT, for example 127.0.0.1:8080`);

let settings;
let allowed;
try {
  settings = loadConfig(options.config);
  // The component's own default endpoint, when the file names none.
  const region = settings.get("region") ?? "us-east-1";
  allowed = origin(settings.get("endpoint") ?? `https://s3.${region}.amazonaws.com`);
} catch (error) {
  fail(error.message);
}

const component = await loadComponent(options.wasm, "edge");
const store = configStore(settings);
const onDenied = (target) => console.error(`edge-serve: refused an outgoing request to ${target}`);

// preview2-shim's server calls `handle` on this thread for each request; every call gets a
// new instance, so no state of one request (memory, globals) is seen by the next.
const server = new HTTPServer(
  freshInstanceHandler(
    () => component.instantiate(componentImports({ configStore: store, allowed, onDenied })),
    (line) => console.error(`edge-serve: ${line}`),
  ),
);
server.listen(Number(addr[2]), addr[1]);
const { address, port } = server.address();
console.error(`Serving HTTP on http://${address}:${port}/`);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.stop();
    component.dispose().finally(() => process.exit(0));
  });
}
