// The imports every Node runner gives a component instance: preview2-shim's WASI with the
// process environment, arguments, filesystem and sockets withheld, plus the runner's own
// `wasi:config/store` and a guarded `wasi:http/outgoing-handler`.
import { WASIShim } from "@bytecodealliance/preview2-shim/instantiation";
import { http } from "@bytecodealliance/preview2-shim";
import { guardOutgoing } from "./outbound.mjs";

/**
 * A fresh import object: `configStore` is the `wasi:config/store` implementation (or
 * undefined for a component that does not import it), `allowed` the one origin outgoing
 * requests may go to, `onDenied` hears a refused request's origin, `inspect` (optional) may
 * refuse a request to that origin too (see `guardOutgoing`).
 */
export function componentImports({ configStore, allowed, onDenied, inspect, extra = {} }) {
  const shim = new WASIShim({
    sandbox: {
      env: {},
      args: ["s3-connector"],
      preopens: {},
      enableNetwork: false,
    },
  });
  const imports = shim.getImportObject();
  // enableNetwork: false above removes raw sockets and all HTTP; HTTP comes back through
  // the guard, for the endpoint's origin only.
  imports["wasi:http/outgoing-handler"] = guardOutgoing(http.outgoingHandler, allowed, onDenied, inspect);
  if (configStore) imports["wasi:config/store"] = configStore;
  return { ...imports, ...extra };
}
