// The imports of the WASI 0.3 edge component (edge-p3) that the Node runner replaces, as modules:
// jco's ESM output imports each interface from a module (`--map NAME=URL#export`), and its
// instantiation mode cannot be used for this component (it reads wasi:http/types@0.2.12 and
// @0.3.0 from one key, `imports['wasi:http/types']`, so the two versions cannot both be given).
// edge-serve-p3.mjs calls `configure` before it imports the transpiled component.
import { http } from "@bytecodealliance/preview2-shim";
import { configStore } from "./config.mjs";
import { guardOutgoing } from "./outbound.mjs";

let store = null;
let outgoing = null;

/**
 * Sets the configuration (`entries`, a Map of strings) and the one origin outgoing requests may
 * go to (`allowed`); `onDenied` hears a refused request's origin. Call once, before the
 * component's module is imported.
 */
export function configure({ entries, allowed, onDenied }) {
  store = configStore(entries);
  outgoing = guardOutgoing(http.outgoingHandler, allowed, onDenied);
}

function configured(what) {
  if (!store) throw new Error(`edge-p3: ${what} was called before configure()`);
}

/** `wasi:config/store`: the configured values. */
export const config = {
  get(key) {
    configured("wasi:config/store");
    return store.get(key);
  },
  getAll() {
    configured("wasi:config/store");
    return store.getAll();
  },
};

/** `wasi:http/outgoing-handler@0.2.12`: preview2-shim's, refusing every other origin. */
export const outgoingHandler = {
  handle(request, options) {
    configured("wasi:http/outgoing-handler");
    return outgoing.handle(request, options);
  },
};

/** `wasi:cli/environment`: no variables and one argument, the process's kept from the guest. */
export const environment = {
  getEnvironment: () => [],
  getArguments: () => ["s3-connector"],
  initialCwd: () => undefined,
};
