// One incoming request to the edge component: a fresh instance handles it, and a trap or a
// failed instantiation becomes a plain 500 answer and one log line instead of a JavaScript
// stack trace, a wasm backtrace, or (preview2-shim's reaction to an error outparam) the end of
// the process.
import { http } from "@bytecodealliance/preview2-shim";

const { Fields, OutgoingBody, OutgoingResponse, ResponseOutparam } = http.types;

/** Answers `responseOutparam` with `status` and a one-line text body. */
function answerText(responseOutparam, status, text) {
  const bytes = new TextEncoder().encode(text);
  const headers = Fields.fromList([
    ["content-type", new TextEncoder().encode("text/plain; charset=utf-8")],
    ["content-length", new TextEncoder().encode(String(bytes.length))],
  ]);
  const response = new OutgoingResponse(headers);
  response.setStatusCode(status);
  const body = response.body();
  ResponseOutparam.set(responseOutparam, { tag: "ok", val: response });
  const stream = body.write();
  stream.blockingWriteAndFlush(bytes);
  OutgoingBody.finish(body, undefined);
}

/**
 * An incoming handler for preview2-shim's HTTPServer that instantiates the component with
 * `instantiate()` for every request. `log` hears one line per failed request.
 */
export function freshInstanceHandler(instantiate, log) {
  return {
    handle(request, responseOutparam) {
      try {
        instantiate().incomingHandler.handle(request, responseOutparam);
      } catch (error) {
        // Only the first line: a trap's message is fixed text; the backtrace below it is not
        // for clients, nor for the log.
        const reason = String(error?.message ?? error).split("\n")[0];
        log(`the component failed on ${request.method().tag.toUpperCase()} ${request.pathWithQuery()}: ${reason}`);
        try {
          answerText(responseOutparam, 500, "the component failed on this request; see the runner's log\n");
        } catch {
          // The component had already started its answer: the client sees it cut short.
        }
      }
    },
  };
}
