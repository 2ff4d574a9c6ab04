// Calls Evaluate, EvaluateBatch and Health on an Earmark server, loading only the .proto
// files, and prints what came back as one JSON object for the Python test to check.
"use strict";
const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const address = process.argv[2];
const root = path.resolve(__dirname, "..", "..");
const options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
const earmark = grpc.loadPackageDefinition(
  protoLoader.loadSync(path.join(root, "proto", "earmark", "v1", "earmark.proto"), {
    ...options,
    includeDirs: [path.join(root, "proto")],
  })
).earmark.v1;
const health = grpc.loadPackageDefinition(protoLoader.loadSync(path.join(__dirname, "health.proto"), options)).grpc.health.v1;

const credentials = grpc.credentials.createInsecure();
const client = new earmark.Earmark(address, credentials);
const healthClient = new health.Health(address, credentials);
const call = (target, method, request) =>
  new Promise((resolve, reject) =>
    target[method](request, { deadline: Date.now() + 10000 }, (error, reply) => (error ? reject(error) : resolve(reply)))
  );

(async () => {
  const headset = { mic: "boom", connectivity: ["usb"], weight_g: 150 };
  // protobufjs brings its own copy of google.protobuf.Struct, in camelCase whatever
  // keepCase says: a Value is {stringValue}, {numberValue} or {listValue}, not string_value.
  const specs = (values) => ({
    fields: Object.fromEntries(
      Object.entries(values).map(([key, value]) => [
        key,
        Array.isArray(value)
          ? { listValue: { values: value.map((item) => ({ stringValue: item })) } }
          : typeof value === "number"
            ? { numberValue: value }
            : { stringValue: value },
      ])
    ),
  });
  const evaluated = await call(client, "Evaluate", {
    product: { id: "node-headset", specs: specs(headset) },
    locale: "de-DE",
  });
  const batch = await call(client, "EvaluateBatch", {
    products: [
      { id: "a", specs: specs(headset) },
      { id: "bad", specs: specs({ mic: "laser" }) },
    ],
  });
  let invalid = null;
  try {
    await call(client, "Evaluate", { product: { id: "x", specs: specs({ battery_hours: -1 }) } });
  } catch (error) {
    invalid = { code: error.code, details: error.details };
  }
  // The shapes a JavaScript developer writes first. Neither reaches the server as specs,
  // so each verdict must say why it is unclassified.
  const plain = await call(client, "Evaluate", { product: { id: "plain", specs: { mic: "boom" } } });
  const snakeCase = await call(client, "Evaluate", {
    product: { id: "snake", specs: { fields: { mic: { string_value: "boom" } } } },
  });
  const typo = await call(client, "Evaluate", { product: { id: "typo", specs: specs({ micc: "boom" }) } });
  let strict = null;
  try {
    await call(client, "Evaluate", { product: { id: "typo", specs: specs({ micc: "boom" }) }, strict: true });
  } catch (error) {
    strict = { code: error.code, details: error.details };
  }
  const checked = await call(healthClient, "Check", { service: "earmark.v1.Earmark" });
  const warned = (reply) => ({ category: reply.verdict.category, warnings: reply.verdict.warnings });
  console.log(
    JSON.stringify({
      evaluated,
      batch,
      invalid,
      health: checked.status,
      plain: warned(plain),
      snakeCase: warned(snakeCase),
      typo: warned(typo),
      strict,
    })
  );
  client.close();
  healthClient.close();
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
