// The one outbound rule the Node runners enforce: the component may send requests only to the
// scheme, host and port of the configured S3 endpoint. preview2-shim would otherwise let it
// reach any address the process can (metadata services, internal hosts).

/** The scheme, host and port of `url`, with the scheme's default port made explicit. */
export function origin(url) {
  const parsed = new URL(url);
  const scheme = parsed.protocol.replace(/:$/, "").toLowerCase();
  if (scheme !== "http" && scheme !== "https") {
    throw new Error(`endpoint ${url}: the scheme must be http or https`);
  }
  const port = parsed.port || (scheme === "https" ? "443" : "80");
  return { scheme, host: parsed.hostname.toLowerCase(), port };
}

/** The scheme of an outgoing request as `wasi:http` gives it (`https` when absent). */
function requestScheme(scheme) {
  if (!scheme) return "https";
  if (scheme.tag === "other") return scheme.val.toLowerCase();
  return scheme.tag.toLowerCase();
}

/** Whether `host` may stand for the endpoint `allowedHost`: itself, or `BUCKET.host`
 * (virtual-hosted addressing) unless the endpoint is an IP address or localhost, as in the
 * reference host's `match_endpoint`. */
function hostMatches(host, allowedHost) {
  if (host === allowedHost) return true;
  const local = allowedHost === "localhost" || allowedHost.startsWith("[") || /^[0-9.]+$/.test(allowedHost);
  if (local || !host.endsWith(`.${allowedHost}`)) return false;
  return /^[a-z0-9][a-z0-9.-]*$/.test(host.slice(0, -allowedHost.length - 1));
}

/**
 * Wraps a `wasi:http/outgoing-handler` so that a request to anything but `allowed` (an
 * `origin`; virtual-hosted bucket subdomains included) fails with `HTTP-request-denied`
 * before any connection is made. `onDenied` hears the refused scheme and authority (never a
 * header or body). `inspect(request, { scheme, authority })`, when given, is asked about each
 * request to the endpoint (a host's own policy, such as prefixes of object keys): a string it
 * returns refuses the request the same way, and `onDenied` hears that reason after the target.
 */
export function guardOutgoing(handler, allowed, onDenied = () => {}, inspect = undefined) {
  return {
    handle(request, options) {
      const scheme = requestScheme(request.scheme());
      const authority = (request.authority() ?? "").toLowerCase();
      // An authority is host[:port]; a bracketed IPv6 host keeps its colons inside brackets.
      const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(authority);
      const host = match?.[1] ?? "";
      const port = match?.[2] ?? (scheme === "https" ? "443" : "80");
      if (scheme !== allowed.scheme || !hostMatches(host, allowed.host) || port !== allowed.port) {
        onDenied(`${scheme}://${authority}`);
        throw { tag: "HTTP-request-denied" };
      }
      const refusal = inspect?.(request, { scheme, authority });
      if (refusal) {
        onDenied(`${scheme}://${authority}`, refusal);
        throw { tag: "HTTP-request-denied" };
      }
      return handler.handle(request, options);
    },
  };
}
