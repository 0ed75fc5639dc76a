#!/usr/bin/env node
// Entry point of `npx gpt2-lab`: runs the compiled CLI. A checkout that was never built (npm runs
// no install scripts here, see .npmrc) is built once first, with its message on stderr.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..");
const entry = path.join(root, "dist", "cli", "main.js");
if (!fs.existsSync(entry)) {
  process.stderr.write("gpt2-lab: building the library (dist/) once...\n");
  require("node:child_process").spawnSync(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", root], {
    stdio: ["ignore", process.stderr, process.stderr],
  });
  if (!fs.existsSync(entry)) {
    process.stderr.write("gpt2-lab: the build failed (above); run `npm install`, then `npm run build` in the gpt2-lab folder.\n");
    process.exit(1);
  }
}
// A reader that stops early (`gpt2-lab generate … | head -1`) closes the pipe: end quietly. Any other
// failure to write the output (a full disk: ENOSPC) is one line and exit 1, never a stack trace.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(0);
  process.stderr.write(`gpt2-lab: could not write the output (${error.code ?? error.message}${error.code === "ENOSPC" ? ": no space left on the device" : ""}).\n`);
  process.exit(1);
});
require(entry)
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
