// What a JavaScript workflow engine's node (Node-RED's, n8n's) does with one JSON action, apart
// from the engine: the plugin component loaded once through the plugin host (plugin-host.mjs),
// the allow rules (policy.mjs) on its credentials callback and its outgoing requests, Camunda's
// request settings decided here (as the reference host does), and object bodies in and out
// through a private document store in a temporary directory. The engines adapt their messages
// or items to `invoke`; the rules are here, once.
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { directoryDocuments, loadPlugin } from "./plugin-host.mjs";
import { parseRules, refusal, requestRefusal, scopeRefusal } from "./policy.mjs";

/** An action's failure: `message` starts with the JSON error's code; `error` is the object. */
export class S3ConnectorError extends Error {
  constructor(error) {
    super(`${error.code}: ${error.message}`);
    this.name = "S3ConnectorError";
    this.code = error.code;
    this.error = error;
  }

  // Engines that print `String(error)` (Node-RED's catch node) show the code first.
  toString() {
    return this.message;
  }
}

/** A failure found by the host before or around the plugin's call. */
export const connectorError = (code, message, extra = {}) =>
  new S3ConnectorError({ code, message, retryable: false, status: null, requestId: null, bucket: null, key: null, ...extra });

const PRESIGN_ACCESS = { GET: "read", HEAD: "read", PUT: "write", DELETE: "delete" };

/**
 * Loads the plugin for one engine configuration. `keys` are `{ accessKeyId, secretAccessKey,
 * sessionToken }` (the secret stays in this process: the component gets derived signing keys);
 * `allow` the rules text (a bad rule throws here); `log(line)` hears refused requests. `place`
 * names where the user sets the connection and keys (for the error messages), `noKeys` the
 * message when the keys are missing, `tempPrefix` the temporary directory's name.
 */
export async function createConnector({
  wasm,
  endpoint,
  region,
  pathStyle,
  allow,
  keys,
  maxInlineBytes = 8 * 1024 * 1024,
  log = () => {},
  place = "the connector's settings",
  noKeys,
  tempPrefix = "s3-connector-documents-",
}) {
  const rules = parseRules(allow);
  const endpointUrl = new URL(endpoint);
  const endpointHost = endpointUrl.hostname.toLowerCase();
  const documentsDir = await mkdtemp(join(tmpdir(), tempPrefix));
  // The host's rule that refused a request of the current call, to replace the plugin's fallback text.
  let refusedBecause;
  let plugin;
  try {
    plugin = await loadPlugin(wasm, {
      connection: { endpoint, region, pathStyle: Boolean(pathStyle), maxAttempts: 3 },
      credentials: (scope) => {
        const why = scopeRefusal(rules, scope);
        if (why) {
          refusedBecause ??= why;
          throw { tag: "denied-by-host", val: why };
        }
        if (!keys.accessKeyId || !keys.secretAccessKey) {
          throw { tag: "denied-by-host", val: noKeys ?? `no credentials: set the access key id and secret access key on ${place}` };
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
  } catch (error) {
    await rm(documentsDir, { recursive: true, force: true });
    throw error;
  }

  /** Camunda's `configuration` and `authentication`, decided by the host: only its own
   * region and endpoint, only its own credentials (keys in a request are refused). */
  function decideSettings(request) {
    const configuration = request.configuration ?? {};
    if (configuration.region !== undefined && configuration.region !== region) {
      throw connectorError("invalid-field", `field "configuration.region": ${JSON.stringify(configuration.region)} is not this host's region "${region}"; set the region on ${place}`);
    }
    if (configuration.endpoint !== undefined && new URL(String(configuration.endpoint), "http://invalid").href !== endpointUrl.href) {
      throw connectorError("invalid-field", `field "configuration.endpoint": not this host's endpoint ${endpoint}; set it on ${place}`);
    }
    const type = request.authentication?.type;
    if (type !== undefined && type !== "defaultCredentialsChain") {
      throw connectorError("invalid-field", `field "authentication.type": ${JSON.stringify(type)}: this node does not take keys from requests; send "defaultCredentialsChain" for the keys set on ${place}`);
    }
    delete request.authentication;
  }

  /**
   * Runs one JSON action (`request`, a plain object this function may change). Options:
   * `upload`: `{ source, contentType, fileName }` for an uploadDocument: `source` (a Buffer or
   * a readable stream) becomes a document the plugin uploads as a stream;
   * `download(path, answer)`: for a downloadDocument: the plugin downloads into a document and
   * `download` gets its file (deleted once `download` has returned) and the answer; what it
   * returns is `body`. Returns `{ answer, body }`; throws an `S3ConnectorError`.
   */
  async function invoke(request, { upload, download } = {}) {
    if (request === null || typeof request !== "object" || Array.isArray(request)) {
      throw connectorError("invalid-json", "the action is not a JSON object");
    }
    decideSettings(request);
    if (upload && request.action !== "uploadDocument") {
      throw connectorError("invalid-field", `an object body was given to a ${JSON.stringify(request.action)} action: only uploadDocument takes one`);
    }
    if (download && request.action !== "downloadDocument") {
      throw connectorError("invalid-field", `the object's bytes were asked of a ${JSON.stringify(request.action)} action: only downloadDocument gives them`);
    }
    if (download) request.createDocument = true;
    // A presigned URL sends nothing for the outgoing guard to see: its key is checked here.
    if (request.action === "presign" && typeof request.bucket === "string" && typeof request.key === "string") {
      const access = PRESIGN_ACCESS[String(request.method ?? "GET").toUpperCase()];
      const why = access && refusal(rules, { bucket: request.bucket, access, key: request.key });
      if (why) throw connectorError("denied-by-host", why, { bucket: request.bucket, key: request.key });
    }
    const temporary = [];
    try {
      if (upload) {
        const documentId = randomUUID();
        const path = join(documentsDir, documentId);
        temporary.push(documentId);
        if (Buffer.isBuffer(upload.source) || upload.source instanceof Uint8Array) await writeFile(path, upload.source);
        else await pipeline(Readable.from(upload.source), createWriteStream(path));
        const { size } = await stat(path);
        request.document = { storeId: "fs", documentId, metadata: { contentType: upload.contentType, size, fileName: upload.fileName ?? request.key } };
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
      if (download && answer.document?.documentId) {
        temporary.push(answer.document.documentId);
        body = await download(join(documentsDir, answer.document.documentId), answer);
        answer.document = null;
      }
      return { answer, body };
    } finally {
      for (const id of temporary) await rm(join(documentsDir, id), { force: true });
    }
  }

  return {
    invoke,
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
