// A component that traps, or cannot be instantiated, costs one request a 500 answer and one log
// line; the runner keeps serving.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HTTPServer } from "@bytecodealliance/preview2-shim/http";
import { freshInstanceHandler } from "../lib/edge-handler.mjs";

test("a trap answers 500 with a plain line, logs one line, and the next request is served", async () => {
  const logged = [];
  let calls = 0;
  const server = new HTTPServer(
    freshInstanceHandler(() => {
      calls += 1;
      return {
        incomingHandler: {
          handle() {
            throw new Error("RuntimeError: unreachable\n    at wasm://wasm/0001:wasm-function[42]");
          },
        },
      };
    }, (line) => logged.push(line)),
  );
  server.listen(0, "127.0.0.1");
  try {
    const { port } = server.address();
    for (const attempt of [1, 2]) {
      const answer = await fetch(`http://127.0.0.1:${port}/bucket/key?attempt=${attempt}`);
      const text = await answer.text();
      assert.equal(answer.status, 500);
      assert.equal(text, "the component failed on this request; see the runner's log\n");
      assert.ok(!text.includes("wasm"), text);
    }
    assert.equal(calls, 2, "a fresh instance per request");
    assert.equal(logged.length, 2);
    assert.equal(logged[0], "the component failed on GET /bucket/key?attempt=1: RuntimeError: unreachable");
  } finally {
    server.stop();
  }
});
