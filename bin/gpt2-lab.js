#!/usr/bin/env node
// Entry point of `npx gpt2-lab`: runs the compiled CLI (build with `npm run build`).
"use strict";
let main;
try {
  main = require("../dist/cli/main.js").main;
} catch (error) {
  if (error.code !== "MODULE_NOT_FOUND") throw error;
  console.error("gpt2-lab is not built yet: run `npm run build` in the gpt2-lab folder first.");
  process.exit(1);
}
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
