// Memory of the inspection pass on a big model: a random model of a real shape (default gpt2-xl) is
// loaded in a fresh process, then inspected once on a prompt of 128 tokens, with the residual stream
// or without it. Reported from /proc/self/status: resident memory split into anonymous pages (the
// process's own) and file pages (the weights file mapped by the inspection graph, shared with the
// page cache and dropped by the kernel under pressure), after loading and after inspecting.
// Usage (after `npm run build`): node dist/bench/inspect-memory.js [--shape gpt2-xl] [--tokens 128]
// The report also goes to bench/inspect-memory-<shape>.txt.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { configForShape, type ShapeName } from "../lib/config";
import { loadModel } from "../lib/model/load";
import { makeModel } from "../lib/weights/make-model";

const { values } = parseArgs({
  options: {
    shape: { type: "string", default: "gpt2-xl" },
    tokens: { type: "string", default: "128" },
    dir: { type: "string" },
    child: { type: "string" },
  },
});
const shape = values.shape as ShapeName;
const dir = values.dir ?? path.join("build", "bench", shape);
const tokens = Number(values.tokens);
const GB = 1e9;

/** VmRSS, RssAnon and RssFile of this process, in bytes. */
function memory(): { rss: number; anon: number; file: number } {
  const status = fs.readFileSync("/proc/self/status", "utf8");
  const kB = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kB("VmRSS"), anon: kB("RssAnon"), file: kB("RssFile") };
}

async function child(residual: boolean): Promise<void> {
  const model = await loadModel(dir, { device: "cpu" });
  const loaded = memory();
  const ids = Array.from({ length: tokens }, (_, t) => (t * 7919 + 13) % model.config.vocab_size);
  const start = performance.now();
  const inspection = await model.inspect(ids, { residual });
  const seconds = (performance.now() - start) / 1000;
  const inspected = memory();
  const peakRss = process.resourceUsage().maxRSS * 1024;
  if (inspection.lens.length !== model.config.n_layer + 1) throw new Error("incomplete inspection");
  process.stdout.write(JSON.stringify({ loaded, inspected, peakRss, seconds }) + "\n");
  await model.dispose();
}

async function main(): Promise<void> {
  if (values.child) return child(values.child === "residual");
  const config = configForShape(shape);
  if (!fs.existsSync(path.join(dir, "model.safetensors"))) {
    console.error(`making ${dir} (seeded random weights)`);
    makeModel({ shape, seed: 0, out: dir, force: true });
  }
  // A first load converts the checkpoint (cached), so that the measured loads only read it.
  execFileSync(process.execPath, [__filename, "--child", "plain", "--shape", shape, "--tokens", "8", "--dir", dir], { stdio: ["ignore", "ignore", "inherit"] });
  const lines = [
    `Written by \`node dist/bench/inspect-memory.js --shape ${shape} --tokens ${tokens}\`.`,
    "",
    `model.inspect on a random ${shape} (${config.n_layer} layers, ${config.n_embd} wide), fp32 on the CPU, prompt of ${tokens} tokens, top 5`,
    `machine: ${os.cpus()[0].model}, ${os.cpus().length} cores, ${(os.totalmem() / GB).toFixed(2)} GB memory, Node ${process.version}`,
    "",
    "| run | resident after loading: all / anonymous / file, GB | after inspecting | added by inspecting: anonymous / file, GB | peak resident, GB | inspect, s |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const mode of ["plain", "residual"]) {
    const argv = [__filename, "--child", mode, "--shape", shape, "--tokens", String(tokens), "--dir", dir];
    const r = JSON.parse(execFileSync(process.execPath, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop()!);
    const triple = (m: { rss: number; anon: number; file: number }) => [m.rss, m.anon, m.file].map((b) => (b / GB).toFixed(2)).join(" / ");
    const added = `${((r.inspected.anon - r.loaded.anon) / GB).toFixed(2)} / ${((r.inspected.file - r.loaded.file) / GB).toFixed(2)}`;
    lines.push(`| ${mode === "plain" ? "without the residual stream" : "with the residual stream"} | ${triple(r.loaded)} | ${triple(r.inspected)} | ${added} | ${(r.peakRss / GB).toFixed(2)} | ${r.seconds.toFixed(1)} |`);
  }
  lines.push(
    "",
    "Anonymous memory is what inspecting costs the process: the outputs (attention weights, the lens) and onnxruntime's working buffers.",
    "File pages are the weights file, mapped by the inspection graph instead of copied (its session does not repack weights);",
    "they count in the resident size while mapped but belong to the page cache, which the kernel reclaims under memory pressure.",
  );
  const report = lines.join("\n") + "\n";
  fs.writeFileSync(path.join("bench", `inspect-memory-${shape}.txt`), report);
  process.stdout.write(report);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
