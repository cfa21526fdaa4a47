// Checks the run of tests/n8n.sh's main workflow that `n8n execute` logged (n8n's log as JSON
// lines; the run's JSON is the message of one of them): each node's items, the bytes that came
// back against bytes.bin (also through the presigned URL, fetched here), and the three refusals
// with their codes first. Prints one line per check; exits 1 on the first failure.
//
//   node tests/n8n/check.mjs main.log bytes.bin
import { readFileSync } from "node:fs";

const [logFile, bytesFile] = process.argv.slice(2);
let run;
for (const line of readFileSync(logFile, "utf8").split("\n")) {
  if (!line.startsWith("{")) continue;
  let message;
  try {
    message = JSON.parse(line).message;
  } catch {
    continue;
  }
  if (typeof message !== "string" || !message.startsWith("{")) continue;
  try {
    const parsed = JSON.parse(message);
    if (parsed?.data?.resultData) run = parsed;
  } catch {}
}
if (!run) fail(`no run's JSON in ${logFile}`);

function fail(message) {
  console.log(`FAIL: ${message}`);
  process.exit(1);
}
function check(ok, message, detail) {
  if (!ok) fail(`${message}${detail === undefined ? "" : `: ${typeof detail === "string" ? detail : JSON.stringify(detail).slice(0, 600)}`}`);
  console.log(`ok: ${message}`);
}

const runData = run.data.resultData.runData ?? fail("the run has no runData");
check(!run.data.resultData.error, "the execution ended without an error", run.data.resultData.error);
/** The items node `name` output (its first run, first output). */
function items(name) {
  const runs = runData[name];
  if (!runs?.length) fail(`the node "${name}" did not run`);
  if (runs[0].error) fail(`the node "${name}" failed: ${runs[0].error.message}`);
  return runs[0].data.main[0];
}
const one = (name) => {
  const all = items(name);
  check(all.length === 1, `"${name}" gave one item`, all.length);
  return all[0];
};

const bucket = one("Create Bucket").json;
check(bucket.bucket === "n8n-test", "Create Bucket answered for n8n-test", bucket);

const put = one("Put Binary").json;
check(put.key === "in/bytes.bin" && typeof put.etag === "string", "Put Binary uploaded in/bytes.bin from the binary property", put);
check(put.contentType === "application/octet-stream", "Put Binary kept the binary's MIME type", put.contentType);

const putJson = one("Put JSON").json;
check(putJson.key === "in/hello.json", "Put JSON uploaded in/hello.json", putJson);

const list = one("List").json;
check(JSON.stringify(list.objects.map((o) => o.key).sort()) === JSON.stringify(["in/bytes.bin", "in/hello.json"]), "List found both objects under in/", list.objects);
const expected = readFileSync(bytesFile);
check(list.objects.find((o) => o.key === "in/bytes.bin").size === expected.length, `List gives in/bytes.bin's size, ${expected.length}`);

const get = one("Get Binary");
check(get.json.key === "in/bytes.bin" && get.json.document === null, "Get Binary answered without a document (its bytes are the binary)", get.json);
check(get.binary?.data?.fileName === "bytes.bin" && get.binary.data.mimeType === "application/octet-stream", "Get Binary put bytes.bin (application/octet-stream) in the binary property data", get.binary?.data);

const back = one("Bytes Back").json;
const got = Buffer.from(back.roundTrip ?? "", "base64");
check(got.equals(expected), `the ${expected.length} bytes came back from S3 through n8n's binary data unchanged`, `got ${got.length} bytes`);

const getJson = one("Get JSON").json;
check(JSON.stringify(getJson.content) === JSON.stringify({ json: { hello: "n8n" } }), "Get JSON gave the object inline", getJson.content);

const camunda = one("Camunda Download").json;
check(camunda.key === "in/hello.json" && JSON.stringify(camunda).includes("n8n"), "the JSON action in Camunda's shape downloaded in/hello.json", camunda);

const info = one("Get Info").json;
check(info.size === expected.length && info.contentType === "application/octet-stream", "Get Info gave the object's size and content type", info);

const copy = one("Copy").json;
check(copy.key === "in/copy.json" && copy.sourceKey === "in/hello.json", "Copy copied in/hello.json to in/copy.json", copy);

const presign = one("Presign").json;
check(typeof presign.url === "string" && presign.url.includes("X-Amz-Signature="), "Presign gave a signed URL", presign);
// The host signed it (with the secret, outside the component): the S3 server takes it.
const fetched = Buffer.from(await (await fetch(presign.url)).arrayBuffer());
check(fetched.equals(expected), "a plain GET of the presigned URL returns the bytes", `got ${fetched.length} bytes`);

const connection = one("Test Connection").json;
check(connection.ok === true && connection.policy?.ok === true, "Test Connection passed every check under the prefix rule", connection);

for (const [name, code, why] of [
  ["Put Outside", "denied-by-host", /out\/secret\.txt/],
  ["Delete Denied", "denied-by-host", /delete/],
  ["Camunda Keys", "invalid-field", /authentication\.type/],
]) {
  const refused = one(name).json;
  check(typeof refused.error === "string" && refused.error.startsWith(`${code}: `) && why.test(refused.error), `${name} was refused: ${refused.error}`, refused);
  check(refused.s3Error?.code === code, `${name} carries the JSON error (code ${code})`, refused.s3Error);
}
console.log("n8n main workflow: all checks passed");
