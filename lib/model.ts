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
import { convertedModelPath } from "./onnx/convert";
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
}

export interface DecoderOutputs {
  /** [batch, sequence, vocab] */
  logits: Float32Array;
  /** The cache extended by this run's positions. */
  present: KvCache;
}

/** Loads a GPT-2 model: a local Hugging Face style folder, a Hub id such as `gpt2`, or `shakespeare`. */
export async function loadModel(nameOrDir: string, { device = "auto", onProgress, revision, onnx = false }: LoadModelOptions = {}): Promise<Model> {
  if (typeof nameOrDir !== "string" || nameOrDir === "") {
    throw new TypeError(`Expected a model name or folder, got \`${String(nameOrDir)}\` (${typeof nameOrDir})`);
  }
  const choice = await chooseDevice(device);
  const files = await findModelFiles(nameOrDir, { onProgress, revision, onnx });
  const config = parseConfig(JSON.parse(fs.readFileSync(files.config, "utf8")), files.config);
  const tokenizer = loadTokenizer(files.dir);
  const onnxPath = files.onnx ?? (await convertedModelPath(files.weights!, config));
  const session = await ort.InferenceSession.create(onnxPath, {
    executionProviders: executionProviders(choice.device),
    graphOptimizationLevel: "all",
  });
  return new Model(nameOrDir, files.dir, config, tokenizer, session, choice.device, choice.skipped);
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
  ) {
    this.parameterCount = countParameters(config);
  }

  /** Runs the decoder once. Checks ids and lengths first, so a bad input never reaches the session. */
  async run({ inputIds, attentionMask, positionIds, past }: DecoderInputs): Promise<DecoderOutputs> {
    const { n_layer, n_head, n_embd, n_positions, vocab_size } = this.config;
    const batch = inputIds.length;
    const sequence = inputIds[0]?.length ?? 0;
    const pastLength = past ? past[0].dims[2] : 0;
    const total = pastLength + sequence;
    if (batch === 0 || sequence === 0) throw new RangeError("Expected at least one sequence with at least one token");
    if (total > n_positions) {
      throw new RangeError(`The sequence is ${total} tokens long but this model's context is ${n_positions}; use a shorter prompt or fewer new tokens`);
    }
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64Tensor(inputIds, sequence, "input_ids", vocab_size),
      attention_mask: int64Tensor(attentionMask, total, "attention_mask", 2),
      position_ids: int64Tensor(positionIds, sequence, "position_ids", n_positions),
    };
    const headDim = n_embd / n_head;
    for (let i = 0; i < n_layer; i++) {
      const empty = () => new ort.Tensor("float32", new Float32Array(0), [batch, n_head, 0, headDim]);
      feeds[`past_key_values.${i}.key`] = past ? past[2 * i] : empty();
      feeds[`past_key_values.${i}.value`] = past ? past[2 * i + 1] : empty();
    }
    // Exports made elsewhere differ a little: Optimum's merged decoders add `use_cache_branch`,
    // older ones have no `position_ids`.
    if (!this.session.inputNames.includes("position_ids")) delete feeds.position_ids;
    if (this.session.inputNames.includes("use_cache_branch")) {
      feeds.use_cache_branch = new ort.Tensor("bool", [past !== null], [1]);
    }
    const out = await this.session.run(feeds);
    const present: KvCache = [];
    for (let i = 0; i < n_layer; i++) present.push(out[`present.${i}.key`], out[`present.${i}.value`]);
    return { logits: out.logits.data as Float32Array, present };
  }

  /**
   * Logits for every position of each row, [batch, length, vocab]. Rows of different lengths are
   * left-padded by `attentionMask` (0 = padding); positions count from each row's first token.
   */
  async forward(inputIds: number[][], attentionMask: number[][] = inputIds.map((row) => row.map(() => 1))): Promise<Float32Array> {
    const positionIds = attentionMask.map(positionsFromMask);
    const { logits } = await this.run({ inputIds, attentionMask, positionIds, past: null });
    return logits;
  }

  /** The next-token logits after each prompt: one Float32Array of `vocab_size` per prompt. */
  async nextTokenLogits(prompts: string | string[]): Promise<Float32Array[]> {
    const list = typeof prompts === "string" ? [prompts] : prompts;
    const { inputIds, attentionMask } = this.tokenizer.encodeBatch(list);
    const logits = await this.forward(inputIds, attentionMask);
    const vocab = this.config.vocab_size;
    const length = inputIds[0].length;
    return list.map((_, b) => logits.slice((b * length + length - 1) * vocab, (b * length + length) * vocab));
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
