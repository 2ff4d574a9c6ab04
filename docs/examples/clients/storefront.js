// A storefront's Earmark client in Node.js: `npm install @grpc/grpc-js@1.14.7
// @grpc/proto-loader@0.8.1`, then `node storefront.js 127.0.0.1:50051 path/to/proto`.
// proto-loader reads the .proto at start-up: there is no code to generate.
"use strict";
const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const [address, protoDir] = process.argv.slice(2);
const definition = protoLoader.loadSync(path.join(protoDir, "earmark", "v1", "earmark.proto"), {
  keepCase: true,
  includeDirs: [protoDir],
});
const earmark = grpc.loadPackageDefinition(definition).earmark.v1;
const client = new earmark.Earmark(address, grpc.credentials.createInsecure());

// specs is a google.protobuf.Struct: {fields: {name: Value}}, and each Value names its
// kind in camelCase (protobufjs' own copy of Struct ignores keepCase). Writing
// {mic: "boom"} or {string_value: "boom"} sends nothing; the verdict then warns.
const value = (v) =>
  Array.isArray(v)
    ? { listValue: { values: v.map(value) } }
    : typeof v === "number"
      ? { numberValue: v }
      : typeof v === "boolean"
        ? { boolValue: v }
        : { stringValue: v };
const struct = (values) => ({ fields: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, value(v)])) });

const request = { product: { id: "arctis-nova-7", specs: struct({ mic: "boom", connectivity: ["wireless_dongle"] }) } };
client.Evaluate(request, { deadline: Date.now() + 2000 }, (error, reply) => {
  if (error) throw error;
  const scores = Object.fromEntries(reply.verdict.scores.map((s) => [s.use_case, s.score]));
  console.log(reply.verdict.category, JSON.stringify(scores));
  const wrong = { product: { id: "plain-object", specs: { mic: "boom" } } };
  client.Evaluate(wrong, { deadline: Date.now() + 2000 }, (error2, reply2) => {
    if (error2) throw error2;
    console.log(JSON.stringify(reply2.verdict.warnings));
    client.close();
  });
});
