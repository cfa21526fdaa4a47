// SigV4 for the Node plugin host: the signing key it derives for the component (which never
// gets the secret access key) and the presigned URLs it signs itself. The same rules as the
// Rust side (rules/src/sigv4, rules/src/request_target.rs); test/sigv4.test.mjs checks the
// key against AWS's worked example and a URL against the Rust host's.
import { createHash, createHmac } from "node:crypto";

/** How far around midnight the neighbouring day's key is still given out (S3's clock skew). */
const MIDNIGHT_SLACK_MS = 15 * 60 * 1000;

const hmac = (key, text) => createHmac("sha256", key).update(text).digest();

/** `YYYYMMDD` of `date` in UTC, as the credential scope writes it. */
export function signingDate(date) {
  return date.toISOString().slice(0, 10).replaceAll("-", "");
}

/** Whether a key for `date` (`YYYYMMDD`) is current at `now`: today's, or the neighbour's near midnight. */
export function isCurrentDate(date, now) {
  const around = [-MIDNIGHT_SLACK_MS, 0, MIDNIGHT_SLACK_MS].map((offset) => signingDate(new Date(now.getTime() + offset)));
  return typeof date === "string" && around.includes(date);
}

/** The SigV4 signing key (32 bytes) of `secret` for `date`, `region` and `s3`. */
export function deriveSigningKey(secret, date, region, service = "s3") {
  const dateKey = hmac(`AWS4${secret}`, date);
  return new Uint8Array(hmac(hmac(hmac(dateKey, region), service), "aws4_request"));
}

/** RFC 3986's unreserved characters stay, everything else is `%XX` (SigV4's encoding). */
function encode(text) {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Path-style where virtual-hosted cannot work, as the plugin addresses requests. */
function target(endpoint, pathStyle, bucket, key) {
  const url = new URL(endpoint);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const ipOrLocal = host === "localhost" || /^[0-9.]+$/.test(host) || host.includes(":");
  const dottedOverTls = url.protocol === "https:" && bucket.includes(".");
  const path = key.split("/").map(encode).join("/");
  if (pathStyle || ipOrLocal || dottedOverTls) {
    return { origin: `${url.protocol}//${url.host}`, host: url.host, path: `/${bucket}/${path}` };
  }
  return { origin: `${url.protocol}//${bucket}.${url.host}`, host: `${bucket}.${url.host}`, path: `/${path}` };
}

/**
 * A presigned URL for `method` (`GET`, `PUT`, `DELETE`, `HEAD`) on `object` (`{ bucket, key }`),
 * valid `expiresInSeconds` from `now`, signed with `keys` (`{ accessKeyId, secretAccessKey,
 * sessionToken }`) on `connection` (`{ endpoint, region, pathStyle }`).
 */
export function presignUrl({ connection, method, object, expiresInSeconds, keys, now }) {
  const { origin, host, path } = target(connection.endpoint, connection.pathStyle, object.bucket, object.key);
  const stamp = `${now.toISOString().slice(0, 19).replaceAll("-", "").replaceAll(":", "")}Z`;
  const date = stamp.slice(0, 8);
  const scope = `${date}/${connection.region}/s3/aws4_request`;
  const params = [
    ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
    ["X-Amz-Credential", `${keys.accessKeyId}/${scope}`],
    ["X-Amz-Date", stamp],
    ["X-Amz-Expires", String(expiresInSeconds)],
    ["X-Amz-SignedHeaders", "host"],
  ];
  if (keys.sessionToken) params.push(["X-Amz-Security-Token", keys.sessionToken]);
  const query = params
    .map(([name, value]) => [encode(name), encode(value)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const canonical = [method, path, query, `host:${host}`, "", "host", "UNSIGNED-PAYLOAD"].join("\n");
  const digest = createHash("sha256").update(canonical).digest("hex");
  const toSign = ["AWS4-HMAC-SHA256", stamp, scope, digest].join("\n");
  const signature = createHmac("sha256", deriveSigningKey(keys.secretAccessKey, date, connection.region))
    .update(toSign)
    .digest("hex");
  return `${origin}${path}?${query}&X-Amz-Signature=${signature}`;
}
