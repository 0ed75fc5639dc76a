// Generation speed, gpt2-lab against transformers.js, in one process on the same weights (a seeded
// random model of a real GPT-2 shape: random weights cost exactly what real ones cost). Each round
// runs every contender once in a fixed order (A B A B …), so drift on a shared machine hits all of
// them alike, and ratios are taken per round. Also measures the machine's floors (memory bandwidth,
// the step's matrix products alone), load time and peak memory (each in a fresh child process),
// and the int8 option's effect on logits. Writes a Markdown report and a JSON file.
// Usage (after `npm run build`): node --expose-gc dist/bench/generate.js [--device cpu|cuda|webgpu]
//   [--shape gpt2] [--dtypes fp32,int8] [--rounds 5] [--quick] [--out bench/results.md] [--work build/bench]
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { configForShape, type Gpt2Config, type ShapeName } from "../lib/config";
import { chooseDevice, type Device } from "../lib/model/device";
import { makeModel } from "../lib/weights/make-model";
import { sessionOptions } from "../lib/model/session";
import { convertCheckpoint, type ConvertedModel } from "../lib/onnx/convert";
import { buildGpt2Graph, WEIGHT_DTYPES, type WeightDtype } from "../lib/onnx/gpt2-graph";
import { writeOnnxModels } from "../lib/onnx/write-model";
import { openCheckpoint } from "../lib/weights/checkpoint";
import { compareDtype, type DtypeComparison } from "./accuracy";
import { type Contender, gpt2Lab, transformersJs, transformersJsFolder, type Workload } from "./contenders";
import { type InspectResult, measureInspection } from "./inspect";
import { type LongResult, measureLong } from "./long";
import { describeMachine, matmulFloor, measureBandwidth, measureMatmuls, median, type Bandwidth, type MatmulFloor } from "./machine";
import { type Footprint, writeReport } from "./report";

const { values: args } = parseArgs({
  options: {
    device: { type: "string", default: "cpu" },
    shape: { type: "string", default: "gpt2" },
    dtypes: { type: "string" },
    rounds: { type: "string" },
    quick: { type: "boolean", default: false },
    out: { type: "string", default: path.join("bench", "results.md") },
    work: { type: "string", default: path.join("build", "bench") },
    child: { type: "string" },
    "no-floors": { type: "boolean", default: false },
    "no-footprints": { type: "boolean", default: false },
  },
});
const device = args.device as Exclude<Device, "auto">;
const shape = args.shape as ShapeName;
const onGpu = device !== "cpu";
const dtypes = (args.dtypes ?? (onGpu ? "fp32" : "fp32,int8")).split(",") as WeightDtype[];
for (const dtype of dtypes) if (!WEIGHT_DTYPES.includes(dtype)) throw new RangeError(`--dtypes: unknown dtype \`${dtype}\`; expected ${WEIGHT_DTYPES.join(", ")}`);
const rounds = Number(args.rounds ?? (args.quick ? 3 : 4));
const tjsDtype = { fp32: "fp32", fp16: "fp16", int8: "q8" } as const;
const tjsFile = { fp32: "model.onnx", fp16: "model_fp16.onnx", int8: "model_quantized.onnx" } as const;

const PROMPT = "What's the price of a loaf of bread?";
const course: Workload = { name: "course cell: 10 samples × 20 tokens, top-k 40", prompt: PROMPT, numSamples: 10, maxNewTokens: 20, doSample: true, topK: 40, temperature: 1, trace: "none" };
const greedy: Workload = { name: `greedy, batch 1, ${args.quick ? 64 : 128} tokens`, prompt: PROMPT, numSamples: 1, maxNewTokens: args.quick ? 64 : 128, doSample: false, topK: 0, temperature: 1, trace: "none" };
const traced: Workload = { ...greedy, name: `${greedy.name}, trace 'top'`, trace: "top" };
/** New tokens of the long greedy generation (with the prompt, 969 of the context's 1024 positions). */
const LONG_TOKENS = 960;

/** One contender running one workload, and what each round measured. */
export interface Entry {
  contender: Contender;
  dtype: WeightDtype;
  library: "gpt2-lab" | "transformers.js" | "floor";
  /** Set for transformers.js run on a fused-attention graph with gpt2-lab's onnxruntime settings (not the reference). */
  variant?: "fused-graph";
  workload: Workload;
  tokensPerSecond: number[];
  msPerRun: number[];
}

async function main(): Promise<void> {
  const modelDir = path.join(args.work, shape);
  const config = configForShape(shape);
  if (!fs.existsSync(path.join(modelDir, "model.safetensors"))) {
    log(`making ${modelDir} (seeded random weights)`);
    makeModel({ shape, seed: 0, out: modelDir, force: true });
  }
  const weights = path.join(modelDir, "model.safetensors");
  const converted: Partial<Record<WeightDtype, ConvertedModel>> = {};
  const conversionSeconds: Partial<Record<WeightDtype, number>> = {};
  for (const dtype of dtypes) {
    const start = performance.now();
    converted[dtype] = await convertCheckpoint(weights, config, { dtype });
    conversionSeconds[dtype] = (performance.now() - start) / 1000;
  }
  const tjsFolders = Object.fromEntries(
    dtypes.map((dtype) => [dtype, transformersJsFolder(modelDir, converted[dtype]!, path.join(args.work, `${shape}-transformers-js-${dtype}`), tjsFile[dtype])]),
  ) as Record<WeightDtype, string>;

  if (args.child) return child(args.child, modelDir, tjsFolders);

  const machine = describeMachine();
  const deviceChoice = await chooseDevice(device);
  log(`device ${deviceChoice.device}; contenders: ${dtypes.map((d) => `gpt2-lab ${d}, transformers.js ${tjsDtype[d]}`).join("; ")}`);

  // Load time and peak memory: each contender alone in a fresh process.
  const footprints: Record<string, Footprint> = {};
  for (const dtype of args["no-footprints"] ? [] : dtypes) {
    for (const library of ["gpt2-lab", "transformers.js"] as const) {
      const key = `${library}:${dtype}`;
      log(`load time and peak memory: ${key}`);
      const argv = [__filename, "--child", key, "--device", device, "--shape", shape, "--dtypes", dtypes.join(","), "--work", args.work];
      footprints[key] = JSON.parse(execFileSync(process.execPath, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop()!);
    }
  }

  // The machine's floors, measured before the workloads.
  let bandwidth: Bandwidth | undefined;
  const matmuls: Partial<Record<WeightDtype, MatmulFloor[]>> = {};
  if (!args["no-floors"]) {
    if (!onGpu) {
      log("memory bandwidth");
      bandwidth = await measureBandwidth();
    }
    for (const dtype of dtypes.filter((d) => d !== "fp16")) {
      log(`matrix products alone, ${dtype}`);
      matmuls[dtype] = await measureMatmuls(config, dtype as "fp32" | "int8", [1, 10], args.work, deviceChoice.device);
    }
  }

  // Every contender, loaded once in this process.
  const contenders = new Map<string, Contender>();
  for (const dtype of dtypes) {
    contenders.set(`gpt2-lab:${dtype}`, gpt2Lab(modelDir, device, dtype));
    contenders.set(`transformers.js:${dtype}`, transformersJs(tjsFolders[dtype], device, tjsDtype[dtype]));
  }
  // The floors, run in the same rounds: a step's matrix products alone.
  if (!args["no-floors"]) for (const dtype of dtypes.filter((d) => d !== "fp16")) contenders.set(`floor:${dtype}`, matmulFloor(config, dtype as "fp32" | "int8", args.work, deviceChoice.device));
  // transformers.js again on the fastest graph it can run (one fused attention operator per layer,
  // Optimum's signature, so the whole cache still comes back each step) with gpt2-lab's onnxruntime
  // settings.
  if (device === "cpu" && dtypes.includes("fp32")) {
    const { executionProviders: _, ...options } = sessionOptions(device);
    const folder = transformersJsFolder(modelDir, await fusedGraph(weights, config, converted.fp32!), path.join(args.work, `${shape}-transformers-js-fused`), tjsFile.fp32);
    contenders.set("transformers.js:fp32:fused-graph", transformersJs(folder, device, "fp32", options, "fused attention, gpt2-lab's session options"));
  }
  for (const [key, contender] of contenders) {
    log(`loading ${key}`);
    await contender.load();
  }
  const entries = (workload: Workload, withTrace = false): Entry[] =>
    dtypes.flatMap((dtype) => {
      const list: Entry[] = [];
      for (const library of ["gpt2-lab", "transformers.js"] as const) {
        const contender = contenders.get(`${library}:${dtype}`)!;
        list.push({ contender, dtype, library, workload, tokensPerSecond: [], msPerRun: [] });
        if (withTrace && library === "gpt2-lab" && dtype === dtypes[0]) list.push({ contender, dtype, library, workload: traced, tokensPerSecond: [], msPerRun: [] });
      }
      const floor = contenders.get(`floor:${dtype}`);
      if (floor && workload.maxNewTokens > 1) list.push({ contender: floor, dtype, library: "floor", workload, tokensPerSecond: [], msPerRun: [] });
      const onOurGraph = contenders.get(`transformers.js:${dtype}:fused-graph`);
      if (onOurGraph && workload.maxNewTokens > 1) list.push({ contender: onOurGraph, dtype, library: "transformers.js", variant: "fused-graph", workload, tokensPerSecond: [], msPerRun: [] });
      return list;
    });
  const groups = [
    { workload: course, entries: entries(course) },
    { workload: greedy, entries: entries(greedy, true) },
  ];
  const firstToken = [
    { workload: { ...course, name: "course cell, 1 token", maxNewTokens: 1 }, entries: [] as Entry[] },
    { workload: { ...greedy, name: "greedy batch 1, 1 token", maxNewTokens: 1 }, entries: [] as Entry[] },
  ].map((g) => ({ ...g, entries: entries(g.workload) }));
  for (const group of [...groups, ...firstToken]) {
    log(`${group.workload.name}: 1 warm-up + ${rounds} rounds of ${group.entries.length} runs`);
    await runRounds(group.entries, rounds);
  }
  // Long generations: per-token time early and late (not with --quick).
  let long: LongResult[] | undefined;
  if (!args.quick) {
    const libraries = dtypes.flatMap((dtype) => [contenders.get(`gpt2-lab:${dtype}`)!, contenders.get(`transformers.js:${dtype}`)!]);
    long = await measureLong(
      libraries,
      [
        { workload: { ...greedy, name: `greedy, batch 1, ${LONG_TOKENS} tokens`, maxNewTokens: LONG_TOKENS }, early: { from: 1, to: 33 }, late: { from: 256, to: LONG_TOKENS - 1 } },
        { workload: { ...course, name: "course cell, 200 tokens", maxNewTokens: 200 }, early: { from: 1, to: 33 }, late: { from: 100, to: 199 } },
      ],
      2,
      log,
    );
  }
  for (const contender of contenders.values()) await contender.dispose();

  // The inspection pass against a plain forward pass of the same prompt.
  const inspection: InspectResult[] = await measureInspection(modelDir, device, dtypes.filter((d) => d !== "fp16"), args.quick ? [64] : [64, 512], rounds, log);

  // The int8 option's effect on logits, against fp32, over a prompt set.
  let accuracy: DtypeComparison | undefined;
  if (dtypes.includes("int8") && dtypes.includes("fp32")) {
    log("int8 against fp32 logits");
    accuracy = await compareDtype(modelDir, "int8", device);
  }
  const command = ["node", ...process.execArgv, "dist/bench/generate.js", ...process.argv.slice(2)].join(" ");
  writeReport(args.out, {
    command,
    date: new Date().toISOString(),
    machine: { ...machine, "load average at end (1/5/15 min)": os.loadavg().map((l) => l.toFixed(2)).join(" / ") },
    device: deviceChoice,
    shape,
    dtypes,
    rounds,
    conversionSeconds,
    footprints,
    bandwidth,
    matmuls,
    groups,
    firstToken,
    long,
    inspection,
    accuracy,
  });
  log(`wrote ${args.out} and ${args.out.replace(/\.md$/, "")}.json`);
}

/**
 * The float32 graph with Optimum's signature and fused attention (onnxruntime's MultiHeadAttention),
 * which transformers.js can load; no `logits_to_keep`. Written once per conversion `of` (its folder name carries the checkpoint's hash
 * and the converter's version) into the work folder, not into gpt2-lab's cache.
 */
async function fusedGraph(weights: string, config: Gpt2Config, of: ConvertedModel): Promise<Pick<ConvertedModel, "dir" | "model">> {
  const dir = path.resolve(args.work, `fused-graph-${path.basename(of.dir)}`);
  const model = path.join(dir, "model.onnx");
  if (!fs.existsSync(model)) {
    const checkpoint = openCheckpoint(weights, config);
    try {
      await writeOnnxModels(dir, [{ file: "model.onnx", graph: buildGpt2Graph(config, checkpoint, { attention: "fused" }) }], "bench");
    } finally {
      checkpoint.close();
    }
  }
  return { dir, model };
}

/**
 * One warm-up run of every entry, then `count` rounds of every entry. Each round starts one entry
 * further along (A B C, B C A, ...) so that no contender always runs first, and the garbage collector
 * runs before each run (with --expose-gc), so that no run pays for another's garbage.
 */
async function runRounds(entries: Entry[], count: number): Promise<void> {
  const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});
  for (let round = -1; round < count; round++) {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[(i + Math.max(round, 0)) % entries.length];
      collect();
      const start = performance.now();
      const tokens = await entry.contender.run(entry.workload, round + 1);
      const ms = performance.now() - start;
      if (round < 0) continue;
      entry.msPerRun.push(ms);
      entry.tokensPerSecond.push((tokens / ms) * 1000);
    }
  }
}

/** In a child process: load one contender, run each workload once, report load time and peak RSS. */
async function child(key: string, modelDir: string, tjsFolders: Record<WeightDtype, string>): Promise<void> {
  const [library, dtype] = key.split(":") as ["gpt2-lab" | "transformers.js", WeightDtype];
  const contender = library === "gpt2-lab" ? gpt2Lab(modelDir, device, dtype) : transformersJs(tjsFolders[dtype], device, tjsDtype[dtype]);
  const start = performance.now();
  await contender.load();
  const loadMs = performance.now() - start;
  await contender.run(course, 0);
  await contender.run({ ...greedy, maxNewTokens: 32 }, 0);
  const maxRssMB = (process.resourceUsage().maxRSS * 1024) / 1e6;
  // Then one long generation, whose cache is the largest this workload set makes (not with --quick).
  if (!args.quick) await contender.run({ ...greedy, maxNewTokens: LONG_TOKENS }, 0);
  await contender.dispose();
  const longMaxRssMB = args.quick ? undefined : (process.resourceUsage().maxRSS * 1024) / 1e6;
  process.stdout.write(JSON.stringify({ loadMs, maxRssMB, longMaxRssMB }) + "\n");
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

export { median };

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
