// A loaded GPT-2: its config, tokenizer and onnxruntime session, and the forward pass with a
// key/value cache. `loadModel` finds the files (local folder, Hub id or built-in model), converts
// the checkpoint to ONNX once (lib/onnx/convert.ts), and opens a session on the chosen device.
// The decoding loop lives in generate.ts; this file only turns token ids into logits.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { type Gpt2Config, parseConfig } from "./config";
import { describeModel } from "./describe";
import { chooseDevice, type Device, executionProviders, type ResolvedDevice } from "./device";
import { builtinModelDir, DEFAULT_MODEL, FALLBACK_MODEL, fallbackNote, isUnavailable } from "./builtin-models";
import { type ModelFiles, type OnnxModelFiles, resolveModelFiles } from "./hub";
import { convertCheckpoint } from "./onnx/convert";
import { WEIGHT_DTYPES, type WeightDtype } from "./onnx/gpt2-graph";
import { loadTokenizer, type Tokenizer } from "./tokenizer";
import { countParameters } from "./weights";

export interface LoadModelOptions {
  /** Where to run. `auto` tries CUDA, then WebGPU, then the CPU. @default "auto" */
  device?: Device;
  /** Called as model files download (Hub models not yet cached). */
  onProgress?: (event: { file: string; loaded: number; total: number }) => void;
  /** Hub revision (branch, tag or commit). @default "main" */
  revision?: string;
  /**
   * Run the repository's own ONNX export (Optimum layout, e.g. onnx/decoder_model_merged.onnx)
   * instead of converting model.safetensors. @default false
   */
  onnx?: boolean;
  /**
   * How the converted model stores its weights. `fp32`: as trained. `int8`: every matrix as 8-bit
   * integers with one scale per output column, multiplied by onnxruntime's DynamicQuantizeMatMul:
   * about a quarter of the memory and several times faster on the CPU, with logits that differ from
   * fp32 (see bench/results.md for the measured difference); CPU only, so `auto` then means `cpu`.
   * `fp16`: float16 weights, activations and cache, for GPUs (the CPU runs it, slowly).
   * Not for `onnx: true` (the export runs as it is). @default "fp32"
   */
  dtype?: WeightDtype;
}

/** The key/value cache: one key and one value tensor per layer, [batch, heads, length, headDim]. */
export type KvCache = ort.Tensor[];

/** One run of the decoder over `sequence` new positions of a batch. */
export interface DecoderInputs {
  /** [batch, sequence] token ids. */
  inputIds: number[][];
  /** [batch, past + sequence]: 1 for tokens, 0 for padding. */
  attentionMask: number[][];
  /** [batch, sequence] position of each new token (left padding shifts them). */
  positionIds: number[][];
  /** The cache from the previous run, or null for the first. */
  past: KvCache | null;
  /**
   * Compute logits only for the last this many positions of each row (generation needs just the
   * last one); 0 or absent computes them for every position. An integer in [0, sequence].
   */
  logitsToKeep?: number;
}

export interface DecoderOutputs {
  /** [batch, kept, vocab]: kept = `logitsToKeep` when set, else sequence. */
  logits: Float32Array;
  /** The cache extended by this run's positions. */
  present: KvCache;
}

/** Loads a GPT-2 model: a local Hugging Face style folder, a Hub id such as `gpt2`, or `shakespeare`. */
export async function loadModel(
  nameOrDir: string,
  { device = "auto", onProgress, revision, onnx = false, dtype = "fp32" }: LoadModelOptions = {},
): Promise<Model> {
  if (typeof nameOrDir !== "string" || nameOrDir === "") {
    throw new TypeError(`Expected a model name or folder, got \`${String(nameOrDir)}\` (${typeof nameOrDir})`);
  }
  validateDtype(dtype, device, onnx);
  const choice = await chooseDevice(dtype === "int8" && device === "auto" ? "cpu" : device);
  const files = await findModelFiles(nameOrDir, { onProgress, revision, onnx });
  const config = parseConfig(JSON.parse(fs.readFileSync(files.config, "utf8")), files.config);
  const tokenizer = loadTokenizer(files.dir);
  // Our own conversions run decoder.onnx, which can skip the output head for all but the last position.
  const onnxPath = files.onnx ?? (await convertCheckpoint(files.weights!, config, { dtype })).decoder;
  const session = await ort.InferenceSession.create(onnxPath, sessionOptions(choice.device, config.n_layer));
  return new Model(nameOrDir, files.dir, config, tokenizer, session, choice.device, choice.skipped, dtype);
}

/** Checks the `dtype` option against the others; `RangeError` naming the conflict and the fix. */
function validateDtype(dtype: WeightDtype, device: Device, onnx: boolean): void {
  if (!WEIGHT_DTYPES.includes(dtype)) {
    throw new RangeError(`Unknown \`dtype\` \`${String(dtype)}\`; expected one of ${WEIGHT_DTYPES.map((d) => `'${d}'`).join(", ")}`);
  }
  if (dtype === "int8" && (device === "cuda" || device === "webgpu")) {
    throw new RangeError(`\`dtype\` 'int8' runs on the CPU only, got device '${device}'; use device 'cpu' (or 'auto'), or dtype 'fp16' on a GPU`);
  }
  if (dtype !== "fp32" && onnx) {
    throw new RangeError(`\`dtype\` '${dtype}' applies to models converted from model.safetensors; with \`onnx: true\` the export runs as it is, so leave out \`dtype\``);
  }
}

/**
 * onnxruntime settings for decoding: every graph optimization (onnxruntime fuses LayerNorm, gelu
 * and the attention scale), its default of one intra-op thread per physical core, and worker
 * threads that sleep rather than spin between operators. On a 2-core machine, sleeping cost 0-5%
 * (fp32) and up to 15% (int8, batch 1) when the machine was idle, and saved 20-35% when other
 * processes kept the cores busy (spinning threads then take turns with them); bench/generate.ts
 * also runs transformers.js on gpt2-lab's graph with these settings, and its floors use them.
 * On WebGPU the `layers` caches stay in GPU memory between steps (`disposeCache` frees them)
 * instead of crossing to the CPU and back.
 */
export function sessionOptions(device: ResolvedDevice, layers = 0): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: executionProviders(device),
    graphOptimizationLevel: "all",
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  };
  if (device === "webgpu" && layers > 0) {
    const names = Array.from({ length: layers }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat();
    options.preferredOutputLocation = Object.fromEntries(names.map((name) => [name, "gpu-buffer" as const]));
  }
  return options;
}

/**
 * Frees a cache that lives in GPU memory (WebGPU); a no-op for caches in CPU memory, which the
 * garbage collector frees. Call it once no run will read the cache again.
 */
export function disposeCache(cache: KvCache | null): void {
  for (const tensor of cache ?? []) if (tensor.location === "gpu-buffer") tensor.dispose();
}

/** Finds (and for Hub ids, downloads) the files of a model: a folder, a Hub id or a built-in name. */
export async function findModelFiles(
  nameOrDir: string,
  { onProgress, revision, onnx = false }: Pick<LoadModelOptions, "onProgress" | "revision" | "onnx">,
): Promise<ModelFiles | OnnxModelFiles> {
  const builtin = builtinModelDir(nameOrDir);
  if (builtin) return resolveModelFiles(builtin, { onnx });
  return resolveModelFiles(nameOrDir.startsWith("~/") ? path.join(os.homedir(), nameOrDir.slice(2)) : nameOrDir, {
    onProgress,
    revision,
    onnx,
  });
}

/** A model, and the one line to show when the built-in model stood in for the default. */
export interface LoadedModel {
  model: Model;
  /** Set when no model was named and the built-in one replaced `gpt2` (offline, not cached). */
  note?: string;
}

/**
 * Loads `name`, or when it is empty or undefined the default model (`gpt2`), falling back to the
 * built-in `shakespeare` model only if `gpt2` is neither cached nor downloadable. A model that was
 * asked for by name is never replaced: its failure is thrown.
 */
export async function loadModelOrDefault(name: string | undefined, options: LoadModelOptions = {}): Promise<LoadedModel> {
  if (name) return { model: await loadModel(name, options) };
  try {
    return { model: await loadModel(DEFAULT_MODEL, options) };
  } catch (error) {
    if (!isUnavailable(error)) throw error;
    return { model: await loadModel(FALLBACK_MODEL, options), note: fallbackNote(error) };
  }
}

/** A GPT-2 ready to run. Call `dispose` to free its memory. */
export class Model {
  /** Number of parameters (the tied output head counted once). */
  readonly parameterCount: number;

  /** @internal Use `loadModel`. */
  constructor(
    /** What the model was loaded as: a Hub id or a folder. */
    readonly name: string,
    /** The folder holding config.json and the tokenizer. */
    readonly dir: string,
    readonly config: Gpt2Config,
    readonly tokenizer: Tokenizer,
    private readonly session: ort.InferenceSession,
    /** Where the model runs. */
    readonly device: ResolvedDevice,
    /** Why faster devices were not used (empty when the fastest one was). */
    readonly skippedDevices: string[],
    /** How the weights are stored (the `dtype` option). */
    readonly dtype: WeightDtype = "fp32",
  ) {
    this.parameterCount = countParameters(config);
  }

  /** Runs the decoder once. Checks ids and lengths first, so a bad input never reaches the session. */
  async run({ inputIds, attentionMask, positionIds, past, logitsToKeep = 0 }: DecoderInputs): Promise<DecoderOutputs> {
    const { n_layer, n_head, n_embd, n_positions, vocab_size } = this.config;
    const batch = inputIds.length;
    const sequence = inputIds[0]?.length ?? 0;
    const pastLength = past ? past[0].dims[2] : 0;
    const total = pastLength + sequence;
    if (batch === 0 || sequence === 0) throw new RangeError("Expected at least one sequence with at least one token");
    if (total > n_positions) {
      throw new RangeError(`The sequence is ${total} tokens long but this model's context is ${n_positions}; use a shorter prompt or fewer new tokens`);
    }
    if (!Number.isInteger(logitsToKeep) || logitsToKeep < 0 || logitsToKeep > sequence) {
      throw new RangeError(`Expected \`logitsToKeep\` to be an integer in [0, ${sequence}], got \`${logitsToKeep}\``);
    }
    const kept = logitsToKeep || sequence;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64Tensor(inputIds, sequence, "input_ids", vocab_size),
      attention_mask: int64Tensor(attentionMask, total, "attention_mask", 2),
      position_ids: int64Tensor(positionIds, sequence, "position_ids", n_positions),
    };
    const headDim = n_embd / n_head;
    const empty = () =>
      this.dtype === "fp16"
        ? new ort.Tensor("float16", new Uint16Array(0), [batch, n_head, 0, headDim])
        : new ort.Tensor("float32", new Float32Array(0), [batch, n_head, 0, headDim]);
    for (let i = 0; i < n_layer; i++) {
      feeds[`past_key_values.${i}.key`] = past ? past[2 * i] : empty();
      feeds[`past_key_values.${i}.value`] = past ? past[2 * i + 1] : empty();
    }
    // Exports made elsewhere differ a little: Optimum's merged decoders add `use_cache_branch`,
    // older ones have no `position_ids`.
    if (!this.session.inputNames.includes("position_ids")) delete feeds.position_ids;
    if (this.session.inputNames.includes("use_cache_branch")) {
      feeds.use_cache_branch = new ort.Tensor("bool", [past !== null], [1]);
    }
    // Our decoder.onnx skips the output head for the other positions; with other exports, slice.
    const skipsHead = this.session.inputNames.includes("logits_to_keep");
    if (skipsHead) feeds.logits_to_keep = new ort.Tensor("int64", BigInt64Array.of(BigInt(logitsToKeep)), []);
    const out = await this.session.run(feeds);
    const present: KvCache = [];
    for (let i = 0; i < n_layer; i++) present.push(out[`present.${i}.key`], out[`present.${i}.value`]);
    const logits = out.logits.data as Float32Array;
    if (skipsHead || kept === sequence) return { logits, present };
    const rows = new Float32Array(batch * kept * vocab_size);
    for (let b = 0; b < batch; b++) {
      rows.set(logits.subarray((b * sequence + sequence - kept) * vocab_size, (b + 1) * sequence * vocab_size), b * kept * vocab_size);
    }
    return { logits: rows, present };
  }

  /**
   * Logits for every position of each row, [batch, length, vocab]. Rows of different lengths are
   * left-padded by `attentionMask` (0 = padding); positions count from each row's first token.
   */
  async forward(inputIds: number[][], attentionMask: number[][] = inputIds.map((row) => row.map(() => 1))): Promise<Float32Array> {
    return this.runWithoutCache(inputIds, attentionMask, 0);
  }

  /** The next-token logits after each prompt: one Float32Array of `vocab_size` per prompt. */
  async nextTokenLogits(prompts: string | string[]): Promise<Float32Array[]> {
    const list = typeof prompts === "string" ? [prompts] : prompts;
    const { inputIds, attentionMask } = this.tokenizer.encodeBatch(list);
    const logits = await this.runWithoutCache(inputIds, attentionMask, 1);
    const vocab = this.config.vocab_size;
    return list.map((_, b) => logits.slice(b * vocab, (b + 1) * vocab));
  }

  /** One pass over whole sequences, positions from the mask; the cache it makes is freed. */
  private async runWithoutCache(inputIds: number[][], attentionMask: number[][], logitsToKeep: number): Promise<Float32Array> {
    const positionIds = attentionMask.map(positionsFromMask);
    const { logits, present } = await this.run({ inputIds, attentionMask, positionIds, past: null, logitsToKeep });
    disposeCache(present);
    return logits;
  }

  /** The module tree in the layout of PyTorch's `print(model)`, with this model's sizes. */
  describe(): string {
    return describeModel(this.config);
  }

  /** Frees the session's memory; the model cannot run afterwards. */
  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** Hugging Face's position ids for a left-padded row: count real tokens from 0; padding gets 1. */
export function positionsFromMask(mask: number[]): number[] {
  let seen = 0;
  return mask.map((m) => (m ? seen++ : 1));
}

/** Packs equal-length rows of integers below `limit` into an int64 tensor. */
function int64Tensor(rows: number[][], width: number, name: string, limit: number): ort.Tensor {
  const data = new BigInt64Array(rows.length * width);
  rows.forEach((row, b) => {
    if (row.length !== width) {
      throw new RangeError(`Expected every row of \`${name}\` to have ${width} entries, row ${b} has ${row.length}`);
    }
    row.forEach((value, t) => {
      if (!Number.isInteger(value) || value < 0 || value >= limit) {
        throw new RangeError(`\`${name}\`[${b}][${t}] is \`${value}\`; expected an integer in [0, ${limit})`);
      }
      data[b * width + t] = BigInt(value);
    });
  });
  return new ort.Tensor("int64", data, [rows.length, width]);
}
