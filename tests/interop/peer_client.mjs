// An independent client of casenode's Peer API, on @grpc/grpc-js (not the
// project's C++ code): the test tool of tests/integration/interop_test.cc.
//
// Reads a plan (JSON) on standard input:
//   { "proto_dir": "...", "endpoint": "127.0.0.1:7101", "target": "gemeente",
//     "ca": "<PEM>", "cert": "<PEM or empty>", "key": "<PEM or empty>",
//     "calls": [ { "method": "Ping", "request": {...}, "metadata": {"k": "v"} } ] }
// and prints one JSON line per call:
//   { "method": "Ping", "code": 0, "details": "", "status_details": "<base64>", "response": {...} }
// Bytes go both ways as base64. Exit code 0 unless the plan itself is bad.
import fs from "node:fs";
import path from "node:path";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const plan = JSON.parse(fs.readFileSync(0, "utf8"));
const definition = protoLoader.loadSync(path.join(plan.proto_dir, "casenode/v1/peer.proto"), {
  includeDirs: [plan.proto_dir],
  keepCase: true,
  longs: String,
  enums: String,
  bytes: String,
  defaults: false,
});
const Peer = grpc.loadPackageDefinition(definition).casenode.v1.Peer;

const credentials = grpc.credentials.createSsl(
  Buffer.from(plan.ca),
  plan.key ? Buffer.from(plan.key) : null,
  plan.cert ? Buffer.from(plan.cert) : null,
);
const client = new Peer(plan.endpoint, credentials, {
  "grpc.ssl_target_name_override": plan.target,
  "grpc.default_authority": plan.target,
});

function call(c) {
  return new Promise((resolve) => {
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(c.metadata ?? {})) metadata.add(k, v);
    const deadline = new Date(Date.now() + 10000);
    client[c.method](c.request ?? {}, metadata, { deadline }, (err, response) => {
      if (err) {
        const details = err.metadata?.get("grpc-status-details-bin")?.[0];
        resolve({
          method: c.method,
          code: err.code,
          details: err.details,
          status_details: details ? Buffer.from(details).toString("base64") : "",
        });
      } else {
        resolve({ method: c.method, code: 0, details: "", status_details: "", response });
      }
    });
  });
}

for (const c of plan.calls) process.stdout.write(JSON.stringify(await call(c)) + "\n");
client.close();
