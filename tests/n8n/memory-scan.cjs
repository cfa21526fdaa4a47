// Preloaded into n8n (NODE_OPTIONS=--require) by tests/n8n.sh, to check the derived-key
// contract from outside: it keeps every WebAssembly memory that an instance made in this
// process exports (the plugin component's core instances among them, each call's instance
// kept alive by this list), and when the process exits it searches each for the
// secret access key and, as the control that the search sees the component's memory, for the
// access key id (which the component gets and signs with). It writes what it found as one
// JSON line to MEMORY_SCAN_OUT: {"memories", "withKeyId", "withSecret"}. The needles come from
// MEMORY_SCAN_KEY_ID and MEMORY_SCAN_SECRET (test keys), which it deletes from the
// environment at once.
const { appendFileSync } = require("node:fs");

const out = process.env.MEMORY_SCAN_OUT;
const keyId = process.env.MEMORY_SCAN_KEY_ID;
const secret = process.env.MEMORY_SCAN_SECRET;
delete process.env.MEMORY_SCAN_KEY_ID;
delete process.env.MEMORY_SCAN_SECRET;

if (out && keyId && secret) {
  const memories = [];
  const Original = WebAssembly.Instance;
  class Recorded extends Original {
    constructor(module, imports) {
      super(module, imports);
      for (const value of Object.values(this.exports)) {
        if (value instanceof WebAssembly.Memory) memories.push(value);
      }
    }
  }
  WebAssembly.Instance = Recorded;
  process.on("exit", () => {
    const count = (needle) => memories.filter((m) => Buffer.from(m.buffer).includes(needle)).length;
    const found = { pid: process.pid, memories: memories.length, withKeyId: count(Buffer.from(keyId)), withSecret: count(Buffer.from(secret)) };
    appendFileSync(out, `${JSON.stringify(found)}\n`);
  });
}
