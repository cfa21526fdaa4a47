// The outbound rule and the config file checks of the Node runners, without a component:
// fake wasi:http requests (only scheme and authority are read) against the guard.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { guardOutgoing, origin } from "../lib/outbound.mjs";
import { configStore, loadConfig } from "../lib/config.mjs";

const request = (scheme, authority) => ({ scheme: () => scheme, authority: () => authority });
const HTTP = { tag: "HTTP" };
const HTTPS = { tag: "HTTPS" };

function guarded(endpoint) {
  const sent = [];
  const denied = [];
  const guard = guardOutgoing({ handle: (r) => sent.push(r) && "future" }, origin(endpoint), (t) => denied.push(t));
  const tryHandle = (r) => {
    try {
      return guard.handle(r);
    } catch (error) {
      return error;
    }
  };
  return { tryHandle, sent, denied };
}

test("requests to the endpoint's scheme, host and port go out", () => {
  const { tryHandle, sent } = guarded("http://127.0.0.1:9000");
  assert.equal(tryHandle(request(HTTP, "127.0.0.1:9000")), "future");
  assert.equal(sent.length, 1);
});

test("another port, host or scheme is refused before anything is sent", () => {
  const { tryHandle, sent, denied } = guarded("http://127.0.0.1:9000");
  for (const [scheme, authority] of [
    [HTTP, "127.0.0.1:9001"],
    [HTTP, "169.254.169.254"],
    [HTTPS, "127.0.0.1:9000"],
    [HTTP, "bucket.127.0.0.1:9000"],
    [{ tag: "other", val: "ftp" }, "127.0.0.1:9000"],
  ]) {
    assert.deepEqual(tryHandle(request(scheme, authority)), { tag: "HTTP-request-denied" }, authority);
  }
  assert.equal(sent.length, 0);
  assert.equal(denied.length, 5);
});

test("a named endpoint allows its bucket subdomains and its default port", () => {
  const { tryHandle, sent } = guarded("https://s3.eu-west-1.amazonaws.com");
  assert.equal(tryHandle(request(HTTPS, "s3.eu-west-1.amazonaws.com")), "future");
  assert.equal(tryHandle(request(HTTPS, "s3.eu-west-1.amazonaws.com:443")), "future");
  assert.equal(tryHandle(request(HTTPS, "my-bucket.s3.eu-west-1.amazonaws.com")), "future");
  assert.equal(sent.length, 3);
  assert.deepEqual(tryHandle(request(HTTPS, "s3.eu-west-1.amazonaws.com.evil.example")), { tag: "HTTP-request-denied" });
  assert.deepEqual(tryHandle(request(HTTPS, "evil-s3.eu-west-1.amazonaws.com")), { tag: "HTTP-request-denied" });
  assert.deepEqual(tryHandle(request(undefined, "s3.eu-west-1.amazonaws.com:80")), { tag: "HTTP-request-denied" });
});

test("an endpoint that is not http or https is refused by name", () => {
  assert.throws(() => origin("ftp://127.0.0.1"), /endpoint ftp:\/\/127\.0\.0\.1: the scheme must be http or https/);
});

test("the config file must be one JSON object of strings, and errors name the file and the rule", () => {
  const dir = mkdtempSync(join(tmpdir(), "config-test-"));
  try {
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ endpoint: "http://127.0.0.1:9000", secret_access_key: "s3cr3t" }));
    const store = configStore(loadConfig(file));
    assert.equal(store.get("endpoint"), "http://127.0.0.1:9000");
    assert.equal(store.get("missing"), undefined);
    assert.equal(store.getAll().length, 2);

    writeFileSync(file, '{"max_attempts": 3}');
    assert.throws(() => loadConfig(file), { message: `config file ${file}: the value of "max_attempts" must be a string` });
    writeFileSync(file, '["a"]');
    assert.throws(() => loadConfig(file), /must hold one JSON object of string values/);
    writeFileSync(file, '{"secret_access_key": "s3cr3t",');
    assert.throws(() => loadConfig(file), (error) => /is not JSON/.test(error.message) && !error.message.includes("s3cr3t"));
    assert.throws(() => loadConfig(join(dir, "absent.json")), /cannot be read \(ENOENT\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("inspect refuses a request to the endpoint before it is sent, and is not asked about others", () => {
  const sent = [];
  const denied = [];
  const asked = [];
  const inspect = (r, where) => {
    asked.push(where.authority);
    return r.path === "/secret" ? "not under an allowed prefix" : undefined;
  };
  const guard = guardOutgoing({ handle: (r) => sent.push(r) && "future" }, origin("http://127.0.0.1:9000"), (t, why) => denied.push([t, why]), inspect);
  const withPath = (authority, path) => ({ scheme: () => HTTP, authority: () => authority, path });
  let error;
  try {
    guard.handle(withPath("127.0.0.1:9000", "/secret"));
  } catch (e) {
    error = e;
  }
  assert.deepEqual(error, { tag: "HTTP-request-denied" });
  assert.deepEqual(denied, [["http://127.0.0.1:9000", "not under an allowed prefix"]]);
  assert.equal(guard.handle(withPath("127.0.0.1:9000", "/open")), "future");
  assert.throws(() => guard.handle(withPath("127.0.0.1:9001", "/open")));
  assert.deepEqual(asked, ["127.0.0.1:9000", "127.0.0.1:9000"]);
  assert.equal(sent.length, 1);
});
