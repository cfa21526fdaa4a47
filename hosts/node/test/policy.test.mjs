// The allow rules the engines' nodes share (lib/policy.mjs): parsing, and what a rule grants.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRules, refusal, scopeRefusal } from "../lib/policy.mjs";

test("rules parse one per line, with comments, default access and *", () => {
  const rules = parseRules("# invoices\ninvoices/2026/=read,list\n\n*=list\narchive");
  assert.deepEqual(
    rules.map((r) => [r.bucket, r.prefix, [...r.access].sort().join(",")]),
    [
      ["invoices", "2026/", "list,read"],
      ["*", "", "list"],
      ["archive", "", "delete,list,read,write"],
    ],
  );
  assert.throws(() => parseRules("invoices=read=write"), /more than one "="/);
  assert.throws(() => parseRules("Invoices"), /not a bucket name/);
  assert.throws(() => parseRules("invoices=erase"), /"erase" is not one of/);
  assert.deepEqual(parseRules(""), []);
});

test("a rule grants its access under its prefix only, and admin only without a prefix", () => {
  const rules = parseRules("invoices/2026/=read,write\ninvoices=admin");
  assert.equal(refusal(rules, { bucket: "invoices", access: "read", key: "2026/a.pdf" }), undefined);
  assert.match(refusal(rules, { bucket: "invoices", access: "read", key: "2025/a.pdf" }), /no allow rule grants read on s3:\/\/invoices\/2025\/a\.pdf/);
  assert.match(refusal(rules, { bucket: "invoices", access: "read", key: "2026/../2025/a.pdf" }), /no allow rule/);
  assert.match(refusal(rules, { bucket: "invoices", access: "read", key: "../x" }), /climbs out of its bucket/);
  assert.match(refusal(rules, { bucket: "invoices", access: "delete", key: "2026/a.pdf" }), /delete/);
  assert.equal(scopeRefusal(rules, { bucket: "invoices", access: "admin" }), undefined);
  assert.match(scopeRefusal(parseRules("invoices/2026/=admin"), { bucket: "invoices", access: "admin" }), /no allow rule/);
  assert.match(refusal(rules, { bucket: undefined, access: "list" }), /"\*=list"/);
  assert.equal(refusal(parseRules("*=list"), { bucket: undefined, access: "list" }), undefined);
  assert.match(scopeRefusal([], { bucket: "invoices", access: "read" }), /no allow rule/);
});
