// What the Node-RED node does with one message, apart from Node-RED: the plugin component
// loaded once through the one Node host (hosts/node/lib/plugin-host.mjs), the config node's
// policy on its credentials callback and its outgoing requests, Camunda's request settings
// decided here (as the reference host does), and object bodies as Buffers through a private
// document store. Kept free of Node-RED so that its rules are in one place.
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { directoryDocuments, loadPlugin } from "s3-connector-node-host/lib/plugin-host.mjs";
import { parseRules, refusal, requestRefusal, scopeRefusal } from "./policy.mjs";

/** An action's failure: `message` starts with the JSON error's code; `error` is the object. */
export class S3ConnectorError extends Error {
  constructor(error) {
    super(`${error.code}: ${error.message}`);
    this.name = "S3ConnectorError";
    this.code = error.code;
    this.error = error;
  }

  // Node-RED puts `toString()` in the catch node's msg.error.message: the code comes first.
  toString() {
    return this.message;
  }
}

const fail = (code, message, extra = {}) =>
  new S3ConnectorError({ code, message, retryable: false, status: null, requestId: null, bucket: null, key: null, ...extra });

const PRESIGN_ACCESS = { GET: "read", HEAD: "read", PUT: "write", DELETE: "delete" };

/**
 * Loads the plugin for one config node. `keys` are `{ accessKeyId, secretAccessKey,
 * sessionToken }` (the secret stays in this process: the component gets derived signing keys);
 * `allow` the rules text; `log(line)` hears refused requests.
 */
export async function createConnector({ wasm, endpoint, region, pathStyle, allow, keys, maxInlineBytes = 8 * 1024 * 1024, log = () => {} }) {
  const rules = parseRules(allow);
  const endpointUrl = new URL(endpoint);
  const endpointHost = endpointUrl.hostname.toLowerCase();
  const documentsDir = await mkdtemp(join(tmpdir(), "node-red-s3-connector-"));
  // The host's rule that refused a request of the current call, to replace the plugin's fallback text.
  let refusedBecause;
  const plugin = await loadPlugin(wasm, {
    connection: { endpoint, region, pathStyle: Boolean(pathStyle), maxAttempts: 3 },
    credentials: (scope) => {
      const why = scopeRefusal(rules, scope);
      if (why) {
        refusedBecause ??= why;
        throw { tag: "denied-by-host", val: why };
      }
      if (!keys.accessKeyId || !keys.secretAccessKey) {
        throw { tag: "denied-by-host", val: "no credentials: set them on the s3-connector-config node or in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" };
      }
      return { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey, sessionToken: keys.sessionToken || undefined };
    },
    documents: directoryDocuments(documentsDir),
    inspectRequest: (request, { authority }) => {
      const why = requestRefusal(rules, request, { authority: authority.toLowerCase(), endpointHost });
      if (why) refusedBecause ??= why;
      return why;
    },
    onDenied: (target, reason) => log(`refused a request to ${target}${reason ? `: ${reason}` : ""}`),
  });

  /** Camunda's `configuration` and `authentication`, decided by the host: only its own
   * region and endpoint, only its own credentials (keys in a request are refused). */
  function decideSettings(request) {
    const configuration = request.configuration ?? {};
    if (configuration.region !== undefined && configuration.region !== region) {
      throw fail("invalid-field", `field "configuration.region": ${JSON.stringify(configuration.region)} is not this host's region "${region}"; set the region on the s3-connector-config node`);
    }
    if (configuration.endpoint !== undefined && new URL(String(configuration.endpoint), "http://invalid").href !== endpointUrl.href) {
      throw fail("invalid-field", `field "configuration.endpoint": not this host's endpoint ${endpoint}; set it on the s3-connector-config node`);
    }
    const type = request.authentication?.type;
    if (type !== undefined && type !== "defaultCredentialsChain") {
      throw fail("invalid-field", `field "authentication.type": ${JSON.stringify(type)}: this node does not take keys from requests; send "defaultCredentialsChain" to use the config node's credentials`);
    }
    delete request.authentication;
  }

  /**
   * Runs one message: `payload` a JSON action (object or JSON text), or a Buffer to upload
   * with `action` (msg.s3) naming the uploadDocument. Returns `{ answer, body }`: `body` is
   * the object's bytes when the action asked for `"asBuffer": true`.
   */
  async function run(payload, action) {
    let request;
    let upload;
    if (Buffer.isBuffer(payload)) {
      if (action?.action !== "uploadDocument") {
        throw fail("invalid-field", "msg.payload is a Buffer: msg.s3 must be the uploadDocument action it is the body of ({\"action\": \"uploadDocument\", \"bucket\", \"key\"})");
      }
      request = structuredClone(action);
      upload = payload;
    } else if (typeof payload === "string") {
      try {
        request = JSON.parse(payload);
      } catch (error) {
        throw fail("invalid-json", `msg.payload is not JSON: ${error.message}`);
      }
    } else {
      request = structuredClone(payload);
    }
    if (request === null || typeof request !== "object" || Array.isArray(request)) {
      throw fail("invalid-json", "msg.payload is not a JSON object (an action)");
    }
    decideSettings(request);
    const asBuffer = request.asBuffer === true;
    if ("asBuffer" in request) {
      if (request.action !== "downloadDocument") throw fail("invalid-field", `field "asBuffer": only downloadDocument takes it`);
      delete request.asBuffer;
      if (asBuffer) request.createDocument = true;
    }
    // A presigned URL sends nothing for the outgoing guard to see: its key is checked here.
    if (request.action === "presign" && typeof request.bucket === "string" && typeof request.key === "string") {
      const access = PRESIGN_ACCESS[String(request.method ?? "GET").toUpperCase()];
      const why = access && refusal(rules, { bucket: request.bucket, access, key: request.key });
      if (why) throw fail("denied-by-host", why, { bucket: request.bucket, key: request.key });
    }
    const temporary = [];
    try {
      if (upload) {
        const documentId = randomUUID();
        await writeFile(join(documentsDir, documentId), upload);
        temporary.push(documentId);
        request.document = { storeId: "fs", documentId, metadata: { contentType: request.contentType, size: upload.length, fileName: request.key } };
        delete request.contentType;
      }
      refusedBecause = undefined;
      let text;
      try {
        text = plugin.call(({ actions }) => actions.invoke(JSON.stringify(request), { maxInlineBytes: BigInt(maxInlineBytes) }));
      } catch (thrown) {
        throw asFailure(thrown, refusedBecause);
      }
      const answer = JSON.parse(text);
      let body;
      if (asBuffer && answer.document?.documentId) {
        temporary.push(answer.document.documentId);
        body = await readFile(join(documentsDir, answer.document.documentId));
        answer.document = null;
      }
      return { answer, body };
    } finally {
      for (const id of temporary) await rm(join(documentsDir, id), { force: true });
    }
  }

  return {
    run,
    async close() {
      await plugin.dispose();
      await rm(documentsDir, { recursive: true, force: true });
    },
  };
}

/** The JSON error of a failed `actions.invoke` (a ComponentError whose payload is its text). */
function asFailure(thrown, hostRule) {
  let error;
  try {
    error = JSON.parse(thrown.payload).error;
  } catch {
    error = { code: "plugin", message: String(thrown?.message ?? thrown), retryable: false };
  }
  // The plugin's text for a request the guard refused is a fallback; the host's rule says why.
  if (error.code === "denied-by-host" && hostRule) error.message = `the policy refused it: ${hostRule}`;
  return new S3ConnectorError(error);
}
