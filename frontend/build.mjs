// `make assets`: bundles src/ into the Python package's static folder. The output is
// committed; tests/unit/studio/test_assets.py rebuilds it and fails if it differs.
import { build } from "esbuild";
import { copyFileSync } from "node:fs";

const out = process.argv[2] ?? "../service/earmark/studio/static";
await build({
  entryPoints: ["src/studio.js"],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  legalComments: "eof",
  outfile: `${out}/studio.js`,
  logLevel: "warning",
});
copyFileSync("src/studio.css", `${out}/studio.css`);
