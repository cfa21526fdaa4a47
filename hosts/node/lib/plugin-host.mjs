// The plugin world in Node.js: what a JavaScript workflow engine (n8n, Node-RED, a Temporal
// TypeScript worker) gives the plugin component in place of the reference host: its
// `credentials` (signing keys derived here: the secret access key never enters the component),
// `presigning`, `settings`, `documents` and `seekable` imports, and a fresh instance per call of
// its `client` and `actions` exports.
import { randomUUID } from "node:crypto";
import { deriveSigningKey, isCurrentDate, presignUrl } from "./sigv4.mjs";
import { basename, dirname, resolve } from "node:path";
import { filesystem } from "@bytecodealliance/preview2-shim";
import { loadComponent } from "./component.mjs";
import { componentImports } from "./imports.mjs";
import { origin } from "./outbound.mjs";

/** The `s3-error` variant for a refusal (jco passes variants as `{ tag, val }`). */
function accessDenied(message) {
  return { tag: "access-denied", val: message };
}

/** The `s3-error` variant for the host's own refusal. */
function deniedByHost(message) {
  return { tag: "denied-by-host", val: message };
}

/**
 * A document store over a directory: `open` reads `DIR/ID`, `create` writes a new file there.
 * Streams come from preview2-shim's filesystem, so the plugin reads and writes documents in
 * chunks, as it does in the reference host.
 */
export function directoryDocuments(dir, storeId = "fs") {
  const [[root]] = filesystem.createFilesystem({ preopens: { "/": dir } }).preopens.getDirectories();
  const noFollow = { symlinkFollow: false };
  const metadata = (descriptor, fileName) => ({
    contentType: undefined,
    size: descriptor.stat().size,
    fileName,
  });
  return {
    open(wantedStore, documentId) {
      if (wantedStore !== storeId) throw `no document store "${wantedStore}" (this host has "${storeId}")`;
      if (!/^[A-Za-z0-9._-]+$/.test(documentId) || documentId.startsWith(".")) {
        throw `document id "${documentId}" is not a plain file name`;
      }
      let descriptor;
      try {
        descriptor = root.openAt(noFollow, documentId, {}, { read: true });
      } catch (code) {
        throw `document "${documentId}" cannot be opened (${code})`;
      }
      return [metadata(descriptor, documentId), descriptor.readViaStream(0n)];
    },
    create(wanted) {
      const documentId = randomUUID();
      const descriptor = root.openAt(noFollow, documentId, { create: true, exclusive: true }, { write: true });
      const reference = {
        storeId,
        documentId,
        metadata: { contentType: wanted.contentType, size: wanted.size, fileName: wanted.fileName },
      };
      return [reference, descriptor.writeViaStream(0n)];
    },
  };
}

/**
 * The `seekable` import's `source`: a file that `client.putObjectFrom` reads range by range,
 * each range a fresh stream of preview2-shim's filesystem, so no part of it is copied into the
 * plugin's memory and a retried part is read again. Its size is taken when it is made.
 */
export class Source {
  #descriptor;
  #size;

  constructor(path) {
    const absolute = resolve(path);
    const [[dir]] = filesystem.createFilesystem({ preopens: { "/": dirname(absolute) } }).preopens.getDirectories();
    this.#descriptor = dir.openAt({ symlinkFollow: false }, basename(absolute), {}, { read: true });
    this.#size = this.#descriptor.stat().size;
  }

  length() {
    return this.#size;
  }

  readRange(offset, length) {
    if (offset + length > this.#size) {
      throw `the range of ${length} bytes from offset ${offset} ends beyond the file's ${this.#size} bytes`;
    }
    // The plugin reads exactly `length` bytes of the stream.
    return this.#descriptor.readViaStream(offset);
  }
}

/**
 * The `seekable` import's `sink`: a file that `client.getObjectInto` writes range by range, each
 * range a fresh stream of preview2-shim's filesystem at its own offset, so ranges downloaded side
 * by side are written where they belong as they arrive. The file is created, or emptied, when
 * the sink is made.
 */
export class Sink {
  #descriptor;

  constructor(path) {
    const absolute = resolve(path);
    const [[dir]] = filesystem.createFilesystem({ preopens: { "/": dirname(absolute) } }).preopens.getDirectories();
    this.#descriptor = dir.openAt({ symlinkFollow: false }, basename(absolute), { create: true, truncate: true }, { write: true });
  }

  writeRange(offset) {
    return this.#descriptor.writeViaStream(offset);
  }
}

/** The access class a presigned URL for `method` (the contract's `presign-method`) grants. */
const PRESIGN_ACCESS = { get: "read", head: "read", put: "write", delete: "delete" };

/**
 * Loads the plugin component. `connection` is the settings record (endpoint, region,
 * pathStyle, maxAttempts, requesterPays); `credentials(scope)` answers each request's scope (`bucket`,
 * `access`) with `{ accessKeyId, secretAccessKey, sessionToken }` or throws a reason: the host
 * hands the component only the signing key derived for the day, and signs presigned URLs
 * itself once `credentials` allowed their scope; `documents` is a store such as
 * `directoryDocuments(dir)`. Returns `call(fn)`: `fn` gets a fresh instance's
 * `{ client, actions }` and its result is returned; the instance is dropped afterwards.
 * `credentials` may also throw an `s3-error` variant (`{ tag: "denied-by-host", val }`), which
 * reaches the plugin as it is. Optional: `inspectRequest(request, { scheme, authority })` sees
 * every outgoing request to the endpoint and refuses it by returning a reason (a host's
 * policy on what the scope does not carry, such as key prefixes); `onDenied(target, reason)`
 * hears each refused request (default: one line on stderr).
 */
export async function loadPlugin(wasmPath, { connection, credentials, documents, inspectRequest, onDenied: onDeniedHook }) {
  const component = await loadComponent(wasmPath, "plugin");
  const allowed = origin(connection.endpoint);
  // The engine's answer for a scope, or its refusal as the contract's error.
  const keysFor = (scope) => {
    try {
      return credentials(scope);
    } catch (reason) {
      if (typeof reason?.tag === "string" && typeof reason?.val === "string") throw reason;
      throw accessDenied(String(reason));
    }
  };
  const hostImports = {
    "s3-connector:s3/settings": { connection: () => ({ requesterPays: false, ...connection }) },
    "s3-connector:s3/credentials": {
      get(scope) {
        if (!isCurrentDate(scope.signingDate, new Date())) {
          throw deniedByHost(`a signing key for ${scope.signingDate} was asked for; this host gives out today's only`);
        }
        const answer = keysFor({ bucket: scope.bucket, access: scope.access });
        return {
          accessKeyId: answer.accessKeyId,
          signingKey: deriveSigningKey(answer.secretAccessKey, scope.signingDate, connection.region),
          signingDate: scope.signingDate,
          sessionToken: answer.sessionToken,
          expiresAt: undefined,
        };
      },
    },
    "s3-connector:s3/presigning": {
      presign({ method, object, expiresInSeconds }) {
        if (!(expiresInSeconds >= 1 && expiresInSeconds <= 604800)) {
          throw { tag: "invalid-request", val: `an expiry of ${expiresInSeconds} seconds is out of range; 1 to 604800` };
        }
        const answer = keysFor({ bucket: object.bucket, access: PRESIGN_ACCESS[method] });
        return presignUrl({ connection, method: method.toUpperCase(), object, expiresInSeconds, keys: answer, now: new Date() });
      },
    },
    "s3-connector:s3/documents": documents,
    "s3-connector:s3/seekable": { Source, Sink },
  };
  const onDenied =
    onDeniedHook ??
    ((target, reason) => console.error(`plugin: refused an outgoing request to ${target}${reason ? `: ${reason}` : ""}`));
  return {
    call(fn) {
      const instance = component.instantiate(componentImports({ allowed, onDenied, inspect: inspectRequest, extra: hostImports }));
      return fn(instance);
    },
    dispose: () => component.dispose(),
  };
}
