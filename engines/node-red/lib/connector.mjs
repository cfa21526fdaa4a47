// What the Node-RED node does with one message, apart from Node-RED: msg.payload and msg.s3
// turned into one JSON action for the Node engines' connector of hosts/node
// (lib/connector.mjs: the plugin component, the allow rules on its credentials callback and its
// outgoing requests, Camunda's settings, object bodies through a private document store),
// which n8n's node shares.
import { readFile } from "node:fs/promises";
import { connectorError, createConnector as createEngineConnector } from "s3-connector-node-host/lib/connector.mjs";

export { S3ConnectorError } from "s3-connector-node-host/lib/connector.mjs";

/**
 * Loads the plugin for one config node: `{ wasm, endpoint, region, pathStyle, allow, keys,
 * maxInlineBytes, log }` (see hosts/node/lib/connector.mjs). Returns `run(payload, action)`
 * and `close()`.
 */
export async function createConnector(options) {
  const connector = await createEngineConnector({
    ...options,
    place: "the s3-connector-config node",
    noKeys: "no credentials: set them on the s3-connector-config node or in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    tempPrefix: "node-red-s3-connector-",
  });

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
        throw connectorError("invalid-field", "msg.payload is a Buffer: msg.s3 must be the uploadDocument action it is the body of ({\"action\": \"uploadDocument\", \"bucket\", \"key\"})");
      }
      request = structuredClone(action);
      upload = { source: payload, contentType: request.contentType, fileName: request.key };
      delete request.contentType;
    } else if (typeof payload === "string") {
      try {
        request = JSON.parse(payload);
      } catch (error) {
        throw connectorError("invalid-json", `msg.payload is not JSON: ${error.message}`);
      }
    } else {
      request = structuredClone(payload);
    }
    if (request === null || typeof request !== "object" || Array.isArray(request)) {
      throw connectorError("invalid-json", "msg.payload is not a JSON object (an action)");
    }
    const asBuffer = request.asBuffer === true;
    if ("asBuffer" in request) {
      if (request.action !== "downloadDocument") throw connectorError("invalid-field", `field "asBuffer": only downloadDocument takes it`);
      delete request.asBuffer;
    }
    return connector.invoke(request, { upload, download: asBuffer ? (path) => readFile(path) : undefined });
  }

  return { run, close: () => connector.close() };
}
