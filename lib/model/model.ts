// A loaded GPT-2: its config, tokenizer and onnxruntime session, the forward pass, and the key/value
// cache between passes, which only the model touches (cache.ts). `loadModel` (load.ts) makes one;
// the decoding loop lives in lib/generate. This file only turns token ids into logits.
import * as ort from "onnxruntime-node";
import { type Gpt2Config } from "../config";
import type { WeightDtype } from "../onnx/gpt2-graph";
import type { Tokenizer } from "../tokenizer/tokenizer";
import { countParameters } from "../weights/checkpoint";
import { cacheLength, disposeCache, emptyCache, gatherBlocks, gatherCacheRows, type KvCache } from "./cache";
import { describeModel } from "./describe";
import type { ResolvedDevice } from "./device";
import { int64Tensor } from "./session";

export type { KvCache } from "./cache";

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
    const pastLength = past ? cacheLength(past) : 0;
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
    const cache = past ?? emptyCache(n_layer, batch, n_head, n_embd / n_head, this.dtype === "fp16");
    for (let i = 0; i < n_layer; i++) {
      feeds[`past_key_values.${i}.key`] = cache[2 * i];
      feeds[`past_key_values.${i}.value`] = cache[2 * i + 1];
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

  /**
   * The outputs of a run as if it had run over a batch whose row r is row `rows[r]` of this one: so
   * the prompt pass of samples that share a prompt runs once per distinct prompt. A cache in GPU
   * memory comes back in CPU memory (and the GPU copy is freed); the next run moves it where the
   * session wants it.
   */
  async selectRows({ logits, present }: DecoderOutputs, rows: readonly number[]): Promise<DecoderOutputs> {
    const batch = present[0].dims[0];
    return { logits: gatherBlocks(logits, batch, rows), present: await gatherCacheRows(present, rows) };
  }

  /** Frees a cache no run will read again (GPU memory at once; CPU memory is left to the garbage collector). */
  disposeCache(cache: KvCache | null): void {
    disposeCache(cache);
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

