// The Node host's SigV4 (lib/sigv4.mjs) against AWS's own worked examples: the derived key of
// the SigV4 documentation and the presigned URL of S3's "Authenticating Requests: Using Query
// Parameters" example.
import { test } from "node:test";
import assert from "node:assert/strict";
import { deriveSigningKey, isCurrentDate, presignUrl } from "../lib/sigv4.mjs";

const hex = (bytes) => Buffer.from(bytes).toString("hex");

test("the derived key is AWS's worked example", () => {
  const key = deriveSigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam");
  assert.equal(hex(key), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
});

test("a presigned URL is S3's documented example", () => {
  const url = presignUrl({
    connection: { endpoint: "https://s3.amazonaws.com", region: "us-east-1", pathStyle: false },
    method: "GET",
    object: { bucket: "examplebucket", key: "test.txt" },
    expiresInSeconds: 86400,
    keys: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
    now: new Date("2013-05-24T00:00:00Z"),
  });
  assert.equal(
    url,
    "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
      "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
      "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
      "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
  );
});

test("only today's key is current, with slack around midnight", () => {
  const table = [
    ["2026-12-07T12:00:00Z", "20261207", true],
    ["2026-12-07T12:00:00Z", "20261206", false],
    ["2026-12-07T23:50:00Z", "20261208", true],
    ["2026-12-08T00:10:00Z", "20261207", true],
    ["2026-12-08T00:10:00Z", "20261209", false],
    ["2026-12-07T12:00:00Z", undefined, false],
  ];
  for (const [now, date, current] of table) assert.equal(isCurrentDate(date, new Date(now)), current, `${date} at ${now}`);
});
