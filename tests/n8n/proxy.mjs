// The n8n test's witness of what reaches S3: a loopback HTTP proxy in front of the S3 server
// that forwards every request as it came (Host included: the signature covers it) and appends
// "METHOD /path?query" of each to a log file before forwarding it. It prints "port=N" once it
// listens, and runs until it is killed.
//
//   node tests/n8n/proxy.mjs http://127.0.0.1:UPSTREAM_PORT requests.log
import { appendFileSync, writeFileSync } from "node:fs";
import http from "node:http";

const [upstreamText, logFile] = process.argv.slice(2);
if (!upstreamText || !logFile) {
  console.error("usage: node proxy.mjs UPSTREAM_URL LOG_FILE");
  process.exit(2);
}
const upstream = new URL(upstreamText);
if (!["127.0.0.1", "localhost", "[::1]"].includes(upstream.hostname)) {
  console.error(`the upstream ${upstream.host} is not on loopback`);
  process.exit(2);
}
writeFileSync(logFile, "");
const server = http.createServer((req, res) => {
  appendFileSync(logFile, `${req.method} ${req.url}\n`);
  const out = http.request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    },
  );
  out.on("error", (error) => res.destroy(error));
  req.pipe(out);
});
server.listen(0, "127.0.0.1", () => console.log(`port=${server.address().port}`));
