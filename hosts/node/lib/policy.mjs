// The policy of the Node engines' nodes (Node-RED's and n8n's, through connector.mjs): allow
// rules (`BUCKET[/PREFIX][=ACCESS]`, one per line, the CLI's `--allow` syntax) checked twice,
// because the Node host sees two things: the scope the plugin asks credentials for (bucket and
// access class only) and every outgoing request (where the key, the listed prefix and a copy's
// source are visible). A request that no rule allows is refused before anything is sent to S3.

const ACCESS = ["read", "write", "delete", "list", "admin"];
const DEFAULT_ACCESS = ["read", "write", "delete", "list"];

/** Parses rules, one per line (blank lines and `#` comments skipped); throws on a bad one. */
export function parseRules(text) {
  const rules = [];
  for (const raw of String(text ?? "").split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const [target, accessText, ...extra] = line.split("=");
    if (extra.length) throw new Error(`allow rule "${line}": more than one "="`);
    const slash = target.indexOf("/");
    const bucket = slash < 0 ? target : target.slice(0, slash);
    const prefix = slash < 0 ? "" : target.slice(slash + 1);
    if (!bucket) throw new Error(`allow rule "${line}": no bucket (use * for every bucket)`);
    if (bucket !== "*" && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new Error(`allow rule "${line}": "${bucket}" is not a bucket name or *`);
    }
    const access = accessText === undefined ? DEFAULT_ACCESS : accessText.split(",").map((a) => a.trim());
    for (const a of access) {
      if (!ACCESS.includes(a)) throw new Error(`allow rule "${line}": "${a}" is not one of ${ACCESS.join(", ")}`);
    }
    rules.push({ bucket, prefix, access: new Set(access), text: line });
  }
  return rules;
}

const bucketMatches = (rule, bucket) => rule.bucket === "*" || rule.bucket === bucket;

/** The keys a normalising server would read for `key` (`.`/`..` segments resolved), or null
 * when it climbs out of the bucket; the reference host asks that both be allowed. */
function normalised(key) {
  const out = [];
  for (const segment of key.split("/")) {
    if (segment === ".") continue;
    if (segment === "..") {
      if (!out.length) return null;
      out.pop();
    } else out.push(segment);
  }
  return out.join("/");
}

/**
 * The reason `rules` refuse `access` on `bucket` (and `key`, or a listing's `prefix`), or
 * undefined when one rule allows it. `key === undefined && prefix === undefined` checks only
 * the bucket and access (the credentials scope); `wholeBucket` asks for a rule without prefix.
 */
export function refusal(rules, { bucket, access, key, prefix, wholeBucket = false }) {
  const what = `${access} on s3://${bucket ?? "*"}${key !== undefined ? `/${key}` : prefix ? `/${prefix}` : ""}`;
  if (bucket === undefined) {
    // ListBuckets reveals every bucket name: only a `*` rule with list.
    return rules.some((r) => r.bucket === "*" && r.access.has(access) && !r.prefix)
      ? undefined
      : `no allow rule grants ${what} (listing buckets needs a "*=list" rule)`;
  }
  const keys = [];
  if (key !== undefined) {
    keys.push(key);
    if (key.split("/").some((s) => s === "." || s === "..")) {
      const n = normalised(key);
      if (n === null) return `the key "${key}" climbs out of its bucket`;
      keys.push(n);
    }
  }
  const ok = (candidate) =>
    rules.some(
      (r) =>
        bucketMatches(r, bucket) &&
        r.access.has(access) &&
        (access === "admin" || wholeBucket ? !r.prefix : candidate === undefined || candidate.startsWith(r.prefix)),
    );
  const candidates = key !== undefined ? keys : [prefix];
  return candidates.every(ok) ? undefined : `no allow rule grants ${what}`;
}

/** The reason the rules refuse a credentials scope (`{ bucket, access }`), or undefined. */
export function scopeRefusal(rules, { bucket, access }) {
  return refusal(rules, { bucket, access, wholeBucket: access === "admin" });
}

const header = (request, name) => {
  const values = request.headers().get(name);
  return values.length ? new TextDecoder().decode(values[0]) : undefined;
};

/**
 * The reason the rules refuse an outgoing S3 request (a `wasi:http` outgoing-request), or
 * undefined. `endpointHost` is the configured endpoint's host: a request to `BUCKET.host` is
 * virtual-hosted. Requests this parser does not recognise are refused.
 */
export function requestRefusal(rules, request, { authority, endpointHost }) {
  const method = request.method().tag === "other" ? request.method().val.toUpperCase() : request.method().tag.toUpperCase();
  const url = new URL(request.pathWithQuery() ?? "/", "http://h");
  const host = authority.replace(/:\d+$/, "");
  const segments = url.pathname.split("/").slice(1);
  let bucket;
  let rawKey;
  if (host !== endpointHost && host.endsWith(`.${endpointHost}`)) {
    bucket = host.slice(0, -endpointHost.length - 1);
    rawKey = segments.join("/");
  } else {
    bucket = segments[0] || undefined;
    rawKey = segments.slice(1).join("/");
  }
  let key;
  try {
    key = rawKey ? decodeURIComponent(rawKey) : undefined;
  } catch {
    return `the request path ${url.pathname} is not valid percent-encoding`;
  }
  const q = url.searchParams;
  if (bucket === undefined) {
    return method === "GET" ? refusal(rules, { bucket, access: "list" }) : `${method} / is not an S3 request this host knows`;
  }
  if (key === undefined) {
    if (method === "GET" && (q.has("tagging") || q.has("versioning"))) return refusal(rules, { bucket, access: "admin" });
    if (method === "GET" && q.has("location")) return refusal(rules, { bucket, access: "list", prefix: "" , wholeBucket: false });
    if (method === "GET" && (q.get("list-type") === "2" || [...q.keys()].every((k) => ["prefix", "delimiter", "max-keys", "marker", "continuation-token", "start-after", "encoding-type", "fetch-owner", "list-type"].includes(k)))) {
      return refusal(rules, { bucket, access: "list", prefix: q.get("prefix") ?? "" });
    }
    if (method === "HEAD") return refusal(rules, { bucket, access: "list", prefix: "" });
    if (method === "POST" && q.has("delete")) return refusal(rules, { bucket, access: "delete", wholeBucket: true });
    if (method === "PUT" || method === "DELETE") return refusal(rules, { bucket, access: "admin" });
    return `${method} on a bucket with ?${[...q.keys()].join("&")} is not an S3 request this host knows`;
  }
  let access;
  if (method === "GET" || method === "HEAD") access = "read";
  else if (method === "PUT" || method === "POST") access = "write";
  else if (method === "DELETE") access = q.has("uploadId") ? "write" : "delete";
  else return `${method} is not an S3 request this host knows`;
  const own = refusal(rules, { bucket, access, key });
  if (own) return own;
  const copySource = method === "PUT" ? header(request, "x-amz-copy-source") : undefined;
  if (copySource !== undefined) {
    const source = decodeURIComponent(copySource.replace(/^\//, "").replace(/\?.*$/, ""));
    const slash = source.indexOf("/");
    if (slash < 1) return `the copy source "${copySource}" names no object`;
    return refusal(rules, { bucket: source.slice(0, slash), access: "read", key: source.slice(slash + 1) });
  }
  return undefined;
}
