// Why this file exists: the Camunda element template is JSON that nothing compiles, so a typo in a
// binding would reach a user as a request the host refuses. This script checks it twice:
//   1. against the JSON Schema Camunda publishes for Camunda 8 (Zeebe) element templates,
//      @camunda/zeebe-element-templates-json-schema, as Camunda Modeler would;
//   2. by building, from the template's bindings, every request Camunda's REST connector would
//      send to `s3-connector serve` (POST /actions) and checking each against what the host and
//      the plugin accept: the request settings rules of host/src/request_settings.rs, Camunda's
//      request shape (tests/camunda/*ActionsExample.json), the translation of
//      plugin/src/exports/actions/camunda.rs and the project's schema/actions.schema.json.
// Then it breaks the template on purpose, several ways, and fails unless every broken copy is
// refused: a check that cannot fail is no check.
//
// It also writes what it built to template-requests.json (`--write`; without it, a stale file
// fails), which tests/tests/element_template.rs runs against s3s-fs.
//
// Run: `npm ci && node validate.mjs` in this directory (.ci/run does); VERBOSE=1 prints why
// each broken copy was refused.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));

const TEMPLATE = readJson(join(here, "s3-connector-serve.json"));
const ZEEBE_SCHEMA = readJson(
  join(here, "node_modules/@camunda/zeebe-element-templates-json-schema/resources/schema.json"),
);
const ACTIONS_SCHEMA = readJson(join(root, "schema/actions.schema.json"));

// Camunda's three actions and the project's action each one is translated to
// (plugin/src/exports/actions/camunda.rs: `CamundaAction::own_name`).
const CAMUNDA_ACTIONS = {
  uploadObject: "uploadDocument",
  downloadObject: "downloadDocument",
  deleteObject: "deleteDocument",
};

// Paths of Camunda's request outside `action`, as its runtime sends them: those of its three
// example requests, plus `configuration.endpoint` (S3Request's configuration; Camunda's own
// template binds it, the examples leave it out).
const camundaPaths = {};
for (const action of Object.keys(CAMUNDA_ACTIONS)) {
  const name = action.replace("Object", "");
  const [example] = readJson(join(root, `tests/camunda/${name}ActionsExample.json`));
  camundaPaths[action] = new Set([...leafPaths(example), "configuration.endpoint"]);
}

// What a FEEL-only field evaluates to at run time, for the fields whose value the template cannot
// give. A Camunda document in a JSON body reaches serve as base64: the REST connector replaces
// every document in the body by its bytes (connector-commons/http-client, ApacheRequestBodyBuilder:
// `parseDocumentsInBody(map, Document::asByteArray)`), which JSON writes as base64.
const FEEL_SAMPLES = {
  "body.action.content.base64": "Q2FtdW5kYSBkb2N1bWVudA==",
  "body.action.content.json": { order: 7, total: "19.90" },
  "body.tags": { team: "billing" },
  "body.keys": ["2026/a.txt", "2026/b.txt"],
};

const zeebeAjv = new Ajv({ allErrors: true, strict: false });
const validateTemplate = zeebeAjv.compile(ZEEBE_SCHEMA);
const actionsAjv = new Ajv2020({ allErrors: true, strict: false });
addFormats(actionsAjv);
actionsAjv.addSchema(ACTIONS_SCHEMA);
const validateRequest = actionsAjv.getSchema(ACTIONS_SCHEMA.$id);

/** Dotted paths of the leaves of a JSON object. */
function leafPaths(value, prefix = "") {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

/** Whether a template condition holds for the chosen values (`values`: property id -> value). */
function holds(condition, values) {
  if (!condition) return true;
  if (condition.allMatch) return condition.allMatch.every((c) => holds(c, values));
  const value = values[condition.property];
  if ("equals" in condition) return value === condition.equals;
  if ("oneOf" in condition) return condition.oneOf.includes(value);
  if ("isActive" in condition) return (value !== undefined) === condition.isActive;
  throw new Error(`condition ${JSON.stringify(condition)}: a kind this check does not know`);
}

/** Sets `path` (a.b.c) in `object`, creating objects on the way, as Zeebe's nested targets do. */
function setPath(object, path, value) {
  const parts = path.split(".");
  let node = object;
  for (const part of parts.slice(0, -1)) {
    if (node[part] === undefined) node[part] = {};
    if (typeof node[part] !== "object" || node[part] === null) {
      throw new Error(`binding ${path}: ${part} is already a value, not an object`);
    }
    node = node[part];
  }
  node[parts.slice(-1)[0]] = value;
}

// What a user would type into each text or number field, by the field's name: values that
// tests/tests/element_template.rs can run against s3s-fs (it creates the buckets, the object and
// the document named here, and puts the test server's endpoint and keys in place of the
// endpoint and keys below).
const SAMPLES = {
  bucket: "archive",
  sourceBucket: "invoices",
  key: "2026/invoice-1.txt",
  sourceKey: "2026/invoice-1.txt",
  prefix: "2026/",
  sourcePrefix: "2026/",
  delimiter: "/",
  maxKeys: 100,
  continuationToken: "2026/invoice-0.txt",
  expiresIn: 900,
  text: "Invoice 1: 19.90",
  storeId: "fs",
  documentId: "invoice-1.txt",
  region: "us-east-1",
  endpoint: "http://127.0.0.1:9000",
  accessKey: "AKIDEXAMPLE",
  secretKey: "example-secret",
};

/** The value a user would give a field: its default, else the sample for its name. */
function sampleValue(property) {
  const target = property.binding.name;
  if (property.feel === "required") {
    if (!(target in FEEL_SAMPLES)) throw new Error(`${target}: a FEEL field this check has no sample for`);
    return FEEL_SAMPLES[target];
  }
  if (property.value !== undefined) return property.value;
  if (property.type === "Boolean") return false;
  const name = target.split(".").slice(-1)[0];
  if (!(name in SAMPLES)) throw new Error(`${target}: a field this check has no sample for`);
  // What Zeebe makes of it: a String field without FEEL is a string literal, a Number a number.
  if (property.type === "Number") return Number(SAMPLES[name]);
  return String(SAMPLES[name]);
}

/** Every combination of the dropdowns that conditions depend on. */
function combinations(template) {
  const selectors = new Set();
  const collect = (c) => {
    if (!c) return;
    if (c.allMatch) c.allMatch.forEach(collect);
    else selectors.add(c.property);
  };
  template.properties.forEach((p) => collect(p.condition));
  let combos = [{}];
  for (const id of selectors) {
    const property = template.properties.find((p) => p.id === id);
    if (!property || property.type !== "Dropdown") {
      throw new Error(`conditions depend on ${id}, which is not a dropdown of the template`);
    }
    combos = combos.flatMap((combo) => property.choices.map((c) => ({ ...combo, [id]: c.value })));
  }
  return combos;
}

/** The REST connector's inputs and the body for one combination; `full`: optional fields filled. */
function build(template, values, full) {
  const inputs = {};
  const used = [];
  for (const property of template.properties) {
    if (property.binding.type !== "zeebe:input" || !holds(property.condition, values)) continue;
    if (property.optional && !full) continue;
    const value = property.id in values ? values[property.id] : sampleValue(property);
    setPath(inputs, property.binding.name, value);
    used.push(property.binding.name);
  }
  return { inputs, used };
}

/** host/src/request_settings.rs `RequestSettings::read`: what a request may say about itself. */
function settingsErrors(body) {
  const errors = [];
  for (const field of ["region", "endpoint"]) {
    const value = body.configuration?.[field];
    if (value !== undefined && typeof value !== "string") errors.push(`configuration.${field} must be a string`);
  }
  const auth = body.authentication;
  if (auth !== undefined) {
    if (auth.type === "credentials") {
      for (const key of ["accessKey", "secretKey"]) {
        if (typeof auth[key] !== "string" || auth[key] === "") errors.push(`authentication.${key} is required`);
      }
    } else if (auth.type !== "defaultCredentialsChain") {
      errors.push(`authentication.type ${JSON.stringify(auth.type)} is not credentials or defaultCredentialsChain`);
    }
  }
  return errors;
}

/** The request the plugin runs: the host strips `authentication`; Camunda's form is translated. */
function asPluginSees(body) {
  const { authentication, ...rest } = body;
  if (!("actionDiscriminator" in rest)) return rest;
  const own = { action: CAMUNDA_ACTIONS[rest.actionDiscriminator] };
  for (const [name, value] of Object.entries(rest.action ?? {})) {
    const renamed = rest.actionDiscriminator === "downloadObject" && name === "asFile" ? "createDocument" : name;
    own[renamed] = value;
  }
  return own;
}

/** Errors of the REST connector's own inputs: POST to serve's /actions with the bearer token. */
function restErrors(template, inputs) {
  const errors = [];
  const type = template.properties.find((p) => p.binding.type === "zeebe:taskDefinition" && p.binding.property === "type");
  if (type?.value !== "io.camunda:http-json:1") errors.push("the task type is not the REST connector's io.camunda:http-json:1");
  if (inputs.method !== "POST") errors.push(`method is ${inputs.method}, serve's /actions takes POST`);
  if (!/\/actions$/.test(inputs.url ?? "")) errors.push(`url ${inputs.url} does not end in /actions`);
  if (inputs.authentication?.type !== "bearer") errors.push("the REST connector's authentication.type is not bearer");
  if (!/^\{\{secrets\.[A-Z0-9_]+\}\}$/.test(inputs.authentication?.token ?? "")) {
    errors.push("authentication.token does not default to a Camunda secret");
  }
  if (typeof inputs.body !== "object") errors.push("no body");
  return errors;
}

/** Every error of a template; none for a good one. */
function check(template) {
  if (!validateTemplate(template)) {
    return validateTemplate.errors.map((e) => `Camunda's schema: ${e.instancePath} ${e.message}`);
  }
  const errors = [];
  const bodyBindings = new Set(
    template.properties.filter((p) => p.binding.name?.startsWith("body.")).map((p) => p.binding.name),
  );
  const usedBindings = new Set();
  const operations = new Set();
  const accepted = new Map();
  let combos;
  try {
    combos = combinations(template);
  } catch (error) {
    return [error.message];
  }
  for (const values of combos) {
    for (const full of [false, true]) {
      let built;
      try {
        built = build(template, values, full);
      } catch (error) {
        errors.push(error.message);
        continue;
      }
      const { inputs, used } = built;
      const where = `${JSON.stringify(values)}${full ? " with optional fields" : ""}`;
      const fail = (message) => errors.push(`${where}: ${message}`);
      restErrors(template, inputs).forEach(fail);
      const body = inputs.body ?? {};
      settingsErrors(body).forEach(fail);
      if ("actionDiscriminator" in body) {
        const paths = camundaPaths[body.actionDiscriminator];
        if (!paths) {
          fail(`actionDiscriminator ${body.actionDiscriminator} is not one of Camunda's`);
          continue;
        }
        for (const path of leafPaths(body).filter((p) => !p.startsWith("action."))) {
          if (!paths.has(path)) fail(`${path} is not in Camunda's request`);
        }
      }
      const request = asPluginSees(body);
      if (!validateRequest(request)) {
        const name = request.action;
        const own = actionsAjv.getSchema(`${ACTIONS_SCHEMA.$id}#/$defs/requests/${name}`);
        const reasons = own && !own(request) ? own.errors : validateRequest.errors;
        fail(`${JSON.stringify(request)} is refused: ${reasons.map((e) => `${e.instancePath} ${e.message}`).join("; ")}`);
        continue;
      }
      used.forEach((b) => usedBindings.add(b));
      operations.add(request.action);
      const key = JSON.stringify(inputs.body);
      if (!accepted.has(key)) accepted.set(key, { chosen: { ...values, optionalFields: full }, body: inputs.body });
    }
  }
  for (const binding of bodyBindings) {
    if (!usedBindings.has(binding)) errors.push(`binding ${binding} is in no request that was checked`);
  }
  const offered = Object.keys(ACTIONS_SCHEMA.$defs.requests).filter((name) => !operations.has(name));
  if (offered.length) errors.push(`actions of schema/actions.schema.json the template does not offer: ${offered.join(", ")}`);
  check.accepted = accepted;
  return errors;
}

const errors = check(TEMPLATE);
if (errors.length) {
  console.error(`s3-connector-serve.json: ${errors.length} errors\n${[...new Set(errors)].join("\n")}`);
  process.exit(1);
}
const accepted = check.accepted;

// The BPMN task of docs/engines.md: the inputs and headers the template maps for "Download
// object", the fixed ones with the template's values, and the template's id and version.
function readmeErrors(template) {
  const readme = readFileSync(join(root, "docs", "engines.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Camunda element template"));
  const xml = /```xml\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  const errors = [];
  const pairs = (re) => [...xml.matchAll(re)].map((m) => [m[1], m[2]]);
  const inputs = new Map(pairs(/<zeebe:input source="([^"]*)" target="([^"]*)"/g).map(([s, t]) => [t, s]));
  const headers = new Map(pairs(/<zeebe:header key="([^"]*)" value="([^"]*)"/g));
  const values = { operation: "downloadObject", "authentication.type": "defaultCredentialsChain" };
  const active = template.properties.filter((p) => holds(p.condition, { uploadSource: "camundaDocument", ...values }));
  const expectedInputs = active.filter((p) => p.binding.type === "zeebe:input" && !p.optional);
  for (const p of expectedInputs) {
    const source = inputs.get(p.binding.name);
    const fixed = p.type === "Hidden" || p.type === "Dropdown" ? String(values[p.id] ?? p.value) : undefined;
    if (source === undefined) errors.push(`docs/engines.md's BPMN task lacks the input ${p.binding.name}`);
    else if (fixed !== undefined && source !== fixed) errors.push(`docs/engines.md's BPMN task: ${p.binding.name} is ${source}, the template's ${fixed}`);
  }
  for (const target of inputs.keys()) {
    if (!expectedInputs.some((p) => p.binding.name === target)) errors.push(`docs/engines.md's BPMN task maps ${target}, which the template does not`);
  }
  const headerProps = active.filter((p) => p.binding.type === "zeebe:taskHeader");
  for (const [key, value] of headers) {
    const p = headerProps.find((h) => h.binding.key === key);
    if (!p) {
      errors.push(`docs/engines.md's BPMN task has the header ${key}, which the template does not`);
      continue;
    }
    const fixed = p.type === "Hidden" || p.type === "Dropdown" ? String(values[p.id] ?? p.value) : undefined;
    if (p && fixed !== undefined && fixed !== value) errors.push(`docs/engines.md's BPMN task: header ${key} is ${value}, the template's ${fixed}`);
  }
  for (const p of headerProps.filter((h) => h.type === "Hidden" || h.type === "Dropdown")) {
    if (!headers.has(p.binding.key)) errors.push(`docs/engines.md's BPMN task lacks the header ${p.binding.key}`);
  }
  const type = template.properties.find((p) => p.binding.type === "zeebe:taskDefinition" && p.binding.property === "type");
  if (!xml.includes(`<zeebe:taskDefinition type="${type?.value}"`)) errors.push("docs/engines.md's BPMN task has another task type");
  if (!xml.includes(`zeebe:modelerTemplate="${template.id}" zeebe:modelerTemplateVersion="${template.version}"`)) {
    errors.push("docs/engines.md's BPMN task names another template id or version");
  }
  return errors;
}
const readme = readmeErrors(TEMPLATE);
if (readme.length) {
  console.error(readme.join("\n"));
  process.exit(1);
}

// The requests, for tests/tests/element_template.rs to run against s3s-fs. The file is checked
// in so that `cargo test` needs no node; a stale copy fails here (`node validate.mjs --write`
// rewrites it).
const REQUESTS = join(here, "template-requests.json");
const requests = `${JSON.stringify([...accepted.values()], null, 1)}\n`;
if (process.argv.includes("--write")) {
  writeFileSync(REQUESTS, requests);
} else if (!existsSync(REQUESTS) || readFileSync(REQUESTS, "utf8") !== requests) {
  console.error("template-requests.json is not what the template builds: run `node validate.mjs --write`");
  process.exit(1);
}

// Broken on purpose: each copy must be refused, or the checks above prove nothing.
const property = (t, id) => t.properties.find((p) => p.id === id);
const MUTATIONS = {
  "a property type Camunda does not know": (t) => (property(t, "uploadObjectBucket").type = "Strng"),
  "the task type left out": (t) => t.properties.shift(),
  "a misspelled field (body.action.bukket)": (t) => (property(t, "downloadObjectBucket").binding.name = "body.action.bukket"),
  "a misspelled discriminator (deleteFile)": (t) => (property(t, "deleteObjectDiscriminator").value = "deleteFile"),
  "the discriminator left out": (t) => t.properties.splice(t.properties.indexOf(property(t, "uploadObjectDiscriminator")), 1),
  "the region sent with the project's own actions": (t) => delete property(t, "configuration.region").condition,
  "an authentication type the host does not know": (t) => (property(t, "authentication.type").choices[0].value = "default"),
  "a Camunda field not in Camunda's request (configuration.bucket)": (t) =>
    (property(t, "configuration.endpoint").binding.name = "body.configuration.bucket"),
  "GET instead of POST": (t) => (property(t, "method").value = "GET"),
  "the token not from a secret": (t) => (property(t, "token").value = "secret-token"),
  "an action left out (presign)": (t) => (property(t, "operation").choices = property(t, "operation").choices.filter((c) => c.value !== "presign")),
  "a number where a string goes (maxKeys as text)": (t) => (property(t, "listObjectsMaxKeys").type = "String"),
};
const passed = [];
for (const [name, mutate] of Object.entries(MUTATIONS)) {
  const broken = JSON.parse(JSON.stringify(TEMPLATE));
  mutate(broken);
  const found = check(broken);
  if (found.length === 0) passed.push(name);
  else if (process.env.VERBOSE) console.log(`${name}: ${found[0]}`);
}
if (passed.length) {
  console.error(`broken templates that passed the checks: ${passed.join("; ")}`);
  process.exit(1);
}
console.log(
  `s3-connector-serve.json: valid against @camunda/zeebe-element-templates-json-schema; ` +
    `${accepted.size} distinct requests built from its bindings accepted; ${Object.keys(MUTATIONS).length} broken copies refused`,
);
