// The Node-RED nodes of node-red-contrib-s3-connector (issue 33, item 1): `s3-connector-config`
// (where S3 is, the policy, the credentials) and `s3-connector` (one JSON action per message,
// run by the plugin component in a sandbox through the Node host of hosts/node). Node-RED
// loads nodes as CommonJS; the work is in lib/connector.mjs (messages into JSON actions) and
// hosts/node/lib/connector.mjs (the rest, shared with the n8n node).
const path = require("node:path");

const DEFAULT_WASM = path.join(__dirname, "..", "..", "target", "plugin", "wasm32-wasip2", "plugin", "s3_connector_plugin.wasm");

module.exports = function (RED) {
  function S3ConnectorConfig(config) {
    RED.nodes.createNode(this, config);
    const credentials = this.credentials ?? {};
    // Empty credentials fall back to the AWS_* environment variables of the Node-RED process.
    const keys = {
      accessKeyId: credentials.accessKeyId || process.env.AWS_ACCESS_KEY_ID,
      secretAccessKey: credentials.secretAccessKey || process.env.AWS_SECRET_ACCESS_KEY,
      sessionToken: credentials.sessionToken || (credentials.accessKeyId ? undefined : process.env.AWS_SESSION_TOKEN),
    };
    const wasm = process.env.S3_CONNECTOR_PLUGIN_WASM || DEFAULT_WASM;
    const log = (line) => this.warn(line);
    this.connector = import("./lib/connector.mjs").then(({ createConnector }) =>
      createConnector({
        wasm,
        endpoint: config.endpoint,
        region: config.region || "us-east-1",
        pathStyle: config.pathStyle === true || config.pathStyle === "true",
        allow: config.allow,
        keys,
        log,
      }),
    );
    // A bad config is reported when a message needs it; this keeps the rejection handled.
    this.connector.catch((error) => this.error(`s3-connector-config: ${error.message}`));
    this.on("close", (done) => {
      this.connector.then((c) => c.close()).catch(() => {}).finally(done);
    });
  }
  RED.nodes.registerType("s3-connector-config", S3ConnectorConfig, {
    credentials: {
      accessKeyId: { type: "text" },
      secretAccessKey: { type: "password" },
      sessionToken: { type: "password" },
    },
  });

  function S3Connector(config) {
    RED.nodes.createNode(this, config);
    const server = RED.nodes.getNode(config.server);
    this.on("input", async (msg, send, done) => {
      try {
        if (!server) throw new Error("config: no s3-connector-config node is selected");
        const connector = await server.connector;
        this.status({ fill: "blue", shape: "dot", text: "running" });
        const { answer, body } = await connector.run(msg.payload, msg.s3);
        if (body !== undefined) {
          msg.payload = body;
          msg.s3 = answer;
        } else {
          msg.payload = answer;
        }
        this.status({ fill: "green", shape: "dot", text: `${answer.auditId ? "ok" : "done"}` });
        send(msg);
        done();
      } catch (error) {
        // Node-RED replaces msg.error with its own object: the JSON error stays in msg.s3Error.
        if (error.error) msg.s3Error = error.error;
        this.status({ fill: "red", shape: "ring", text: error.message.slice(0, 60) });
        done(error);
      }
    });
  }
  RED.nodes.registerType("s3-connector", S3Connector);
};
