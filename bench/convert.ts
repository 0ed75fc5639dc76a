// Converting a GPT-2 checkpoint to ONNX: time and peak memory, on a random model of a real shape
// (default gpt2-xl, 6.4 GB in fp32). The conversion runs in a child process of its own so its
// peak resident memory is measured alone. Usage (after `npm run build`):
//   node dist/bench/convert.js [--shape gpt2-xl] [--dir build/bench/gpt2-xl]
// The report also goes to bench/convert-<shape>.txt.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { configForShape, type ShapeName } from "../lib/config";
import { makeModel } from "../lib/weights/make-model";
import { convertedModelPath } from "../lib/onnx/convert";
import { countParameters } from "../lib/weights/checkpoint";

const { values } = parseArgs({
  options: { shape: { type: "string", default: "gpt2-xl" }, dir: { type: "string" }, child: { type: "boolean", default: false } },
});
const shape = values.shape as ShapeName;
const dir = values.dir ?? path.join("build", "bench", shape);
const config = configForShape(shape);

if (values.child) {
  // The measured part: convert into a fresh cache and report time and peak RSS as JSON.
  const cache = fs.mkdtempSync(path.join(path.dirname(path.resolve(dir)), "convert-cache-"));
  const start = process.hrtime.bigint();
  convertedModelPath(path.join(dir, "model.safetensors"), config, cache).then((onnxPath) => {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const onnxBytes = fs.statSync(onnxPath).size + fs.statSync(path.join(path.dirname(onnxPath), "model.onnx.data")).size;
    process.stdout.write(JSON.stringify({ seconds, maxRssBytes: process.resourceUsage().maxRSS * 1024, onnxBytes }) + "\n");
    fs.rmSync(cache, { recursive: true, force: true });
  });
} else {
  if (!fs.existsSync(path.join(dir, "model.safetensors"))) {
    process.stderr.write(`Making a random ${shape} model in ${dir} (once)…\n`);
    makeModel({ shape, seed: 0, out: dir, force: true });
  }
  const fp32Bytes = countParameters(config) * 4;
  const result = JSON.parse(execFileSync(process.execPath, [__filename, "--child", "--shape", shape, "--dir", dir], { encoding: "utf8" }));
  const gb = (bytes: number) => (bytes / 1e9).toFixed(2);
  const report =
    [
      `Conversion of a random ${shape} checkpoint (${countParameters(config).toLocaleString("en")} parameters, ${gb(fp32Bytes)} GB in fp32)`,
      `machine: ${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, ${gb(os.totalmem())} GB memory, Node ${process.version}`,
      `time: ${result.seconds.toFixed(1)} s`,
      `peak memory (RSS of the converting process): ${gb(result.maxRssBytes)} GB = ${(result.maxRssBytes / fp32Bytes).toFixed(2)} × the fp32 model size (target < 1.5 ×)`,
      `written: ${gb(result.onnxBytes)} GB (model.onnx + model.onnx.data)`,
    ].join("\n") + "\n";
  process.stdout.write(report);
  const results = path.join(__dirname, "..", "..", "bench", `convert-${shape}.txt`);
  fs.writeFileSync(results, `Written by \`node dist/bench/convert.js --shape ${shape}\`.\n\n${report}`);
}
