// What this machine can do at best, to compare generation against: its memory bandwidth (a plain
// JS read loop and copy, onnxruntime's ReduceSum over a large input) and the speed of the exact
// matrix products a GPT-2 step runs (every block's four matrices and the output head, as MatMul
// or, for int8, DynamicQuantizeMatMul) at batch 1 and batch 10, in onnxruntime with the session
// options the model uses. Weight values are a fixed pattern: speed does not depend on them.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { onnx } from "onnx-proto";
import type { Gpt2Config } from "../lib/config";
import { innerSize } from "../lib/config";
import type { ResolvedDevice } from "../lib/model/device";
import { sessionOptions } from "../lib/model/session";
import { GraphBuilder } from "../lib/onnx/graph-builder";
import { quantizeColumns } from "../lib/onnx/quantize";
import { writeOnnxModels } from "../lib/onnx/write-model";
import type { Contender } from "./contenders";

const DataType = onnx.TensorProto.DataType;

/** The machine in words, for the results file. */
export function describeMachine(): Record<string, string> {
  const cpus = os.cpus();
  const version = (name: string) => {
    // Some packages do not export package.json: walk up from their entry point instead.
    for (let dir = path.dirname(require.resolve(name)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      const file = path.join(dir, "package.json");
      if (fs.existsSync(file) && JSON.parse(fs.readFileSync(file, "utf8")).name === name) return JSON.parse(fs.readFileSync(file, "utf8")).version as string;
    }
    return "unknown";
  };
  return {
    cpu: `${cpus[0]?.model ?? "unknown"} × ${cpus.length} (logical cores)`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    "onnxruntime-node": version("onnxruntime-node"),
    "@huggingface/transformers": version("@huggingface/transformers"),
    "load average at start (1/5/15 min)": os.loadavg().map((l) => l.toFixed(2)).join(" / "),
  };
}

/** Memory read rates in GB/s (10^9 bytes per second), best of several runs each. */
export interface Bandwidth {
  /** Summing a 512 MB Float32Array in one JS thread. */
  jsRead: number;
  /** TypedArray.set of 256 MB (bytes read + bytes written, per second). */
  jsCopy: number;
  /** onnxruntime ReduceSum over a 512 MB input, all intra-op threads. */
  ortReduce: number;
}

export async function measureBandwidth(device: ResolvedDevice = "cpu"): Promise<Bandwidth> {
  const n = 128 * 2 ** 20; // 128 Mi floats = 512 MiB, far beyond any cache
  const big = new Float32Array(n);
  for (let i = 0; i < n; i += 1024) big[i] = i & 7; // touch every page
  const jsRead = best(3, () => {
    let a = 0, b = 0, c = 0, d = 0;
    for (let i = 0; i < n; i += 4) {
      a += big[i];
      b += big[i + 1];
      c += big[i + 2];
      d += big[i + 3];
    }
    return a + b + c + d;
  });
  const half = n / 2;
  const target = new Float32Array(half);
  const jsCopy = best(3, () => target.set(big.subarray(0, half)));
  const reduce = await ort.InferenceSession.create(reduceSumModel(), { ...sessionOptions(device), executionProviders: ["cpu"] });
  const input = new ort.Tensor("float32", big, [n]);
  await reduce.run({ x: input });
  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    const start = performance.now();
    await reduce.run({ x: input });
    times.push(performance.now() - start);
  }
  await reduce.release();
  const bytes = n * 4;
  return { jsRead: bytes / jsRead / 1e6, jsCopy: (2 * half * 4) / jsCopy / 1e6, ortReduce: bytes / Math.min(...times) / 1e6 };
}

/** The step's matrix products alone, timed at one batch size. */
export interface MatmulFloor {
  batch: number;
  /** Median milliseconds for all of a step's products. */
  ms: number;
  /** Bytes of weights read per step. */
  weightBytes: number;
  /** Multiply-adds × 2 per step. */
  flops: number;
}

/**
 * Times every matrix product of one decoding step of `config` (12 × 4 block matrices + the
 * output head for gpt2) at `batch` rows, as our graph runs them: MatMul for fp32, Dynamic-
 * QuantizeMatMul for int8. Builds the model in `workDir` once per dtype.
 */
export async function measureMatmuls(config: Gpt2Config, dtype: "fp32" | "int8", batches: number[], workDir: string, device: ResolvedDevice = "cpu"): Promise<MatmulFloor[]> {
  const shapes = stepMatrices(config);
  const session = await ort.InferenceSession.create(await matmulModel(config, dtype, workDir), sessionOptions(device));
  const results: MatmulFloor[] = [];
  for (const batch of batches) {
    const feeds = matmulFeeds(shapes, batch);
    for (let r = 0; r < 2; r++) await session.run(feeds);
    const times: number[] = [];
    for (let r = 0; r < 7; r++) {
      const start = performance.now();
      await session.run(feeds);
      times.push(performance.now() - start);
    }
    const params = shapes.reduce((sum, [k, n]) => sum + k * n, 0);
    results.push({ batch, ms: median(times), weightBytes: params * (dtype === "int8" ? 1 : 4), flops: 2 * batch * params });
  }
  await session.release();
  return results;
}

/** The [in, out] shapes of every matrix one decoding step multiplies by. */
function stepMatrices(config: Gpt2Config): [number, number][] {
  const d = config.n_embd;
  const inner = innerSize(config);
  const shapes: [number, number][] = [];
  for (let i = 0; i < config.n_layer; i++) shapes.push([d, 3 * d], [d, d], [d, inner], [inner, d]);
  shapes.push([d, config.vocab_size]);
  return shapes;
}

/** Writes (once) the model of a step's matrix products alone and returns its path. */
async function matmulModel(config: Gpt2Config, dtype: "fp32" | "int8", workDir: string): Promise<string> {
  const dir = path.join(workDir, `matmuls-${config.n_layer}x${config.n_embd}-${dtype}`);
  if (!fs.existsSync(path.join(dir, "model.onnx"))) await writeOnnxModels(dir, [{ file: "model.onnx", graph: matmulGraph(stepMatrices(config), dtype) }], "bench");
  return path.join(dir, "model.onnx");
}

function matmulFeeds(shapes: [number, number][], batch: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const k of new Set(shapes.map(([k]) => k))) feeds[`x${k}`] = new ort.Tensor("float32", new Float32Array(batch * k).fill(0.01), [batch, k]);
  return feeds;
}

/**
 * The floor as a contender: for a workload of `maxNewTokens` steps at `numSamples` rows, runs the
 * step's matrix products alone that many times, so it can sit in the same rounds as the libraries
 * and be measured under the same conditions.
 */
export function matmulFloor(config: Gpt2Config, dtype: "fp32" | "int8", workDir: string, device: ResolvedDevice = "cpu"): Contender {
  const shapes = stepMatrices(config);
  let session: ort.InferenceSession | undefined;
  return {
    label: `floor: ${dtype} matrix products alone`,
    async load() {
      session = await ort.InferenceSession.create(await matmulModel(config, dtype, workDir), sessionOptions(device));
    },
    async run(w) {
      const feeds = matmulFeeds(shapes, w.numSamples);
      for (let step = 0; step < w.maxNewTokens; step++) await session!.run(feeds);
      return w.numSamples * w.maxNewTokens;
    },
    async dispose() {
      await session?.release();
    },
  };
}

function matmulGraph(shapes: [number, number][], dtype: "fp32" | "int8"): GraphBuilder {
  const g = new GraphBuilder();
  const inputs = new Map<number, string>();
  for (const [k] of shapes) if (!inputs.has(k)) inputs.set(k, g.input(`x${k}`, DataType.FLOAT, ["batch", k]));
  shapes.forEach(([k, n], i) => {
    const values = () => patterned(k * n, i);
    const name = `w${i}`;
    let y: string;
    if (dtype === "fp32") {
      y = g.op1("MatMul", [inputs.get(k)!, g.weight({ name, shape: [k, n], read: values })], {}, `y${i}`);
    } else {
      let q: ReturnType<typeof quantizeColumns> | undefined;
      const quantized = () => (q ??= quantizeColumns(values(), k, n));
      const w = g.weight({ name, shape: [k, n], dataType: DataType.INT8, read: () => quantized().values });
      const s = g.weight({ name: `${name}.scale`, shape: [n], read: () => quantized().scales });
      y = g.op1("com.microsoft:DynamicQuantizeMatMul", [inputs.get(k)!, w, s], {}, `y${i}`);
    }
    g.output(y, DataType.FLOAT, ["batch", n]);
  });
  return g;
}

function reduceSumModel(): Uint8Array {
  const info = (name: string, dims: (number | string)[]) => ({
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((v) => (typeof v === "number" ? { dimValue: v } : { dimParam: v })) } } },
  });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: "", version: 17 }],
      graph: {
        name: "reduce",
        node: [{ opType: "ReduceSum", input: ["x"], output: ["y"], attribute: [{ name: "keepdims", type: onnx.AttributeProto.AttributeType.INT, i: 0 }] }],
        input: [info("x", ["n"])],
        output: [info("y", [])],
      },
    }),
  ).finish();
}

/** Deterministic values in [-0.05, 0.05), different for each matrix. */
function patterned(length: number, salt: number): Float32Array {
  const out = new Float32Array(length);
  let x = (salt + 1) * 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) | 0;
    out[i] = ((x >>> 8) / 2 ** 24 - 0.5) * 0.1;
  }
  return out;
}

/** Milliseconds of the fastest of `runs` calls. */
function best(runs: number, f: () => unknown): number {
  let fastest = Infinity;
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    f();
    fastest = Math.min(fastest, performance.now() - start);
  }
  return fastest;
}

export function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
