// A loaded GPT-2: its config, tokenizer and onnxruntime session, the forward pass, and the key/value
// cache between passes, which only the model touches (cache.ts). Our decoder returns only the
// newest keys and values of a step; `step` keeps them beside the rest and folds them in every
// CACHE_WINDOW positions, into buffers allocated once per generation, since onnxruntime-node copies
// every output into new memory and a whole cache returned at each step costs time that grows with
// its length. `loadModel` (load.ts) makes one; the decoding loop lives in lib/generate. This file
// only turns token ids into logits.
import * as ort from "onnxruntime-node";
import { type Gpt2Config, gelu } from "../config";
import { type Inspection, type InspectionSessions, type InspectOptions, runInspection } from "../inspect/inspect";
import { interruptible } from "../interrupt";
import type { WeightDtype } from "../onnx/gpt2-graph";
import type { Tokenizer } from "../tokenizer/tokenizer";
import { countParameters } from "../weights/checkpoint";
import { type CacheRoom, cacheLength, type DecodeState, disposeCache, emptyCache, foldRecent, gatherBlocks, gatherCacheRows, type KvCache, reorderRows, Scratch, stateLength } from "./cache";
import { describeModel } from "./describe";
import type { ResolvedDevice } from "./device";
import { int64Tensor, sessionOptions } from "./session";

export type { DecodeState, KvCache } from "./cache";

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

/** One step of a generation (`Model.step`): the decoder's inputs with the cache in its decoding form. */
export interface StepInputs extends Omit<DecoderInputs, "past"> {
  /** The state from the previous step, or null for the first; a step uses it up. */
  state: DecodeState | null;
  /**
   * Positions the cache will reach in this generation (prompt plus new tokens), when known: the
   * first fold allocates room for all of them, and later folds write in place. Without it, the
   * room doubles each time it runs out.
   */
  finalLength?: number;
}

export interface StepOutputs {
  /** [batch, kept, vocab]. */
  logits: Float32Array;
  state: DecodeState;
}

/** Positions the windowed decoder returns before they are folded into the rest of the cache. */
export const CACHE_WINDOW = 32;

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
  /** Cache tensors of the full length allocated so far (by onnxruntime or by folding the window): the model's own accounting. */
  readonly memory = { cacheAllocations: 0 };
  /** Whether the decoder returns only the newest positions of the cache (our conversions). */
  private readonly windowed: boolean;
  /** Where `reorderRows` sets rows aside. */
  private readonly scratch = new Scratch();
  /** The inspection graphs' sessions, opened by the first `inspect`. */
  private readonly inspection = new OpenedOnce<InspectionSessions>(async () => {
    const files = this.inspectionFiles!;
    const [inspect, lens] = await Promise.all([files.inspect, files.lens].map((file) => this.openSideSession(file)));
    return { inspect, lens };
  });
  /** The intervention pass's session, opened by the first `runIntervention`. */
  private readonly intervention = new OpenedOnce(() => this.openSideSession(this.inspectionFiles!.intervene!));

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
    /** inspect.onnx and lens.onnx of our own conversions; null for an ONNX export. */
    private readonly inspectionFiles: { inspect: string; lens: string; intervene: string | null } | null = null,
  ) {
    this.parameterCount = countParameters(config);
    this.windowed = session.inputNames.includes("recent.0.key");
  }

  /** Runs the decoder once. Checks ids and lengths first, so a bad input never reaches the session. */
  async run({ inputIds, attentionMask, positionIds, past, logitsToKeep = 0 }: DecoderInputs): Promise<DecoderOutputs> {
    const { logits, state } = await this.execute(inputIds, attentionMask, positionIds, past ? { settled: past, recent: null, room: null } : null, logitsToKeep);
    return { logits, present: state.recent ? (await this.fold(state, 0)).settled : state.settled };
  }

  /**
   * One step of a generation: like `run`, on the cache in the form this model's decoder keeps it
   * between steps. With our own conversions only the newest positions come back from onnxruntime;
   * every `CACHE_WINDOW` positions they are folded into the rest, in place once there is room, so
   * a generation allocates its cache once instead of at every step.
   */
  async step({ inputIds, attentionMask, positionIds, state, logitsToKeep = 0, finalLength = 0 }: StepInputs): Promise<StepOutputs> {
    const out = await this.execute(inputIds, attentionMask, positionIds, state, logitsToKeep);
    const { recent } = out.state;
    if (!recent || cacheLength(recent) < CACHE_WINDOW) return out;
    // Room for the whole generation when its length is known, else for twice the length now.
    const length = stateLength(out.state);
    const capacity = Math.min(this.config.n_positions, finalLength >= length ? finalLength : 2 * length);
    const { settled, room } = await this.fold(out.state, capacity);
    return { logits: out.logits, state: { settled, recent: null, room } };
  }

  /** A state's recent positions folded into its settled ones, counting the allocations. */
  private async fold(state: DecodeState, capacity: number): Promise<{ settled: KvCache; room: CacheRoom }> {
    const folded = await foldRecent(state, capacity);
    if (folded.allocated) this.memory.cacheAllocations += folded.settled.length;
    return folded;
  }

  /** The session run behind `run` and `step`. */
  private async execute(
    inputIds: number[][],
    attentionMask: number[][],
    positionIds: number[][],
    state: DecodeState | null,
    logitsToKeep: number,
  ): Promise<StepOutputs> {
    const { n_layer, n_head, n_embd, n_positions, vocab_size } = this.config;
    const batch = inputIds.length;
    const sequence = inputIds[0]?.length ?? 0;
    const total = (state ? stateLength(state) : 0) + sequence;
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
    const float16 = this.dtype === "fp16";
    const empty = () => emptyCache(n_layer, batch, n_head, n_embd / n_head, float16);
    const settled = state?.settled ?? empty();
    const recent = this.windowed ? (state?.recent ?? empty()) : null;
    for (let i = 0; i < n_layer; i++) {
      for (const [k, kv] of ["key", "value"].entries()) {
        feeds[`past_key_values.${i}.${kv}`] = settled[2 * i + k];
        if (recent) feeds[`recent.${i}.${kv}`] = recent[2 * i + k];
      }
    }
    // Exports made elsewhere differ a little: Optimum's merged decoders add `use_cache_branch`,
    // older ones have no `position_ids`.
    if (!this.session.inputNames.includes("position_ids")) delete feeds.position_ids;
    if (this.session.inputNames.includes("use_cache_branch")) {
      feeds.use_cache_branch = new ort.Tensor("bool", [state !== null], [1]);
    }
    // Our decoder.onnx skips the output head for the other positions; with other exports, slice.
    const skipsHead = this.session.inputNames.includes("logits_to_keep");
    if (skipsHead) feeds.logits_to_keep = new ort.Tensor("int64", BigInt64Array.of(BigInt(logitsToKeep)), []);
    const out = await this.session.run(feeds);
    const name = this.windowed ? "recent_out" : "present";
    const cache: KvCache = [];
    for (let i = 0; i < n_layer; i++) cache.push(out[`${name}.${i}.key`], out[`${name}.${i}.value`]);
    if (!this.windowed) this.memory.cacheAllocations += cache.length;
    const next: DecodeState = this.windowed ? { settled, recent: cache, room: state?.room ?? null } : { settled: cache, recent: null, room: null };
    let logits = out.logits.data as Float32Array;
    if (!skipsHead && kept !== sequence) {
      const rows = new Float32Array(batch * kept * vocab_size);
      for (let b = 0; b < batch; b++) {
        rows.set(logits.subarray((b * sequence + sequence - kept) * vocab_size, (b + 1) * sequence * vocab_size), b * kept * vocab_size);
      }
      logits = rows;
    }
    return { logits, state: next };
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
   * The outputs of a step as if it had run over a batch whose row r is row `rows[r]` of this one:
   * so the prompt pass of samples that share a prompt runs once per distinct prompt. A cache in GPU
   * memory comes back in CPU memory (and the GPU copy is freed); the next run moves it where the
   * session wants it.
   */
  async selectRows({ logits, state }: StepOutputs, rows: readonly number[]): Promise<StepOutputs> {
    const batch = state.settled[0].dims[0];
    this.memory.cacheAllocations += state.settled.length;
    return {
      logits: gatherBlocks(logits, batch, rows),
      state: { settled: await gatherCacheRows(state.settled, rows), recent: state.recent && (await gatherCacheRows(state.recent, rows)), room: null },
    };
  }

  /**
   * Reorders the rows of a step's state in place: row r becomes a copy of row `rows[r]` (beam
   * search's choice of which hypotheses go on). No buffer of the cache is allocated; the rows
   * overwritten before they are read are copied aside into memory the model keeps.
   */
  async reorderRows(state: DecodeState, rows: readonly number[]): Promise<void> {
    const batch = state.settled[0].dims[0];
    if (rows.length !== batch || !rows.every((r) => Number.isInteger(r) && r >= 0 && r < batch)) {
      throw new RangeError(`Expected one row index in [0, ${batch - 1}] per row of the batch (${batch}), got [${rows.join(", ")}]`);
    }
    await reorderRows(state.settled, rows, this.scratch);
    if (state.recent) await reorderRows(state.recent, rows, this.scratch);
  }

  /** Frees a cache no run will read again (GPU memory at once; CPU memory is left to the garbage collector). */
  disposeCache(cache: KvCache | DecodeState | null): void {
    if (cache && !Array.isArray(cache)) {
      disposeCache(cache.settled);
      disposeCache(cache.recent);
    } else {
      disposeCache(cache);
    }
  }

  /** One pass over whole sequences, positions from the mask; the cache it makes is freed, never assembled. */
  private async runWithoutCache(inputIds: number[][], attentionMask: number[][], logitsToKeep: number): Promise<Float32Array> {
    const positionIds = attentionMask.map(positionsFromMask);
    const { logits, state } = await this.execute(inputIds, attentionMask, positionIds, null, logitsToKeep);
    this.disposeCache(state);
    return logits;
  }

  /**
   * Looks inside the model on one prompt (a text or token ids): every head's attention weights, how
   * much each block writes into the residual stream, the logit lens and, if asked, the stream itself.
   * Runs a second graph over the same weights (opened on first use; decoding does not pay for it).
   */
  async inspect(prompt: string | readonly number[], options: InspectOptions = {}): Promise<Inspection> {
    if (!this.inspectionFiles) {
      throw new Error(`${this.name} runs an ONNX export, which has no inspection graph; load it without \`onnx: true\` to convert its model.safetensors`);
    }
    const open = () => this.inspection.get();
    // A kernel interrupt (Jupyter's ■) stops it between the pass and each layer of the lens.
    return interruptible("inspection", (signal) => runInspection(this, open, prompt, options, signal));
  }

  /**
   * @internal Runs the intervention pass (lib/interpret) on prepared feeds. Opens intervene.onnx on
   * first use; only float32 conversions have one.
   */
  async runIntervention(feeds: Record<string, ort.Tensor>, fetches?: string[]): Promise<ort.InferenceSession.OnnxValueMapType> {
    if (!this.inspectionFiles?.intervene) {
      const why = this.inspectionFiles ? `its weights are stored as ${this.dtype}` : "it runs an ONNX export";
      throw new Error(`${this.name} cannot be intervened on: ${why}; load it with \`dtype: "fp32"\` (the default) and without \`onnx: true\``);
    }
    const session = await this.intervention.get();
    return fetches ? session.run(feeds, fetches) : session.run(feeds);
  }

  /** A session of one of the one-pass graphs (inspection, lens, intervention), its weights mapped from the shared file. */
  private openSideSession(file: string): Promise<ort.InferenceSession> {
    return ort.InferenceSession.create(file, sessionOptions(this.device, 0, { mapWeights: true }));
  }

  /** The MLP's activation as the model computes it: GELU in its tanh form (`gelu` in lib/config.ts). */
  activation(x: number): number {
    return gelu(x);
  }

  /** The module tree in the layout of PyTorch's `print(model)`, with this model's sizes. */
  describe(): string {
    return describeModel(this.config);
  }

  /** Frees the session's memory; the model cannot run afterwards. */
  async dispose(): Promise<void> {
    await this.session.release();
    const inspection = await this.inspection.opened();
    if (inspection) await Promise.all([inspection.inspect.release(), inspection.lens.release()]);
    await (await this.intervention.opened())?.release();
  }
}

/** What `open` gives, made on first use and kept; a failed open is not kept, so the next use tries again. */
class OpenedOnce<T> {
  private value?: Promise<T>;
  constructor(private readonly open: () => Promise<T>) {}

  get(): Promise<T> {
    this.value ??= this.open().catch((error) => {
      this.value = undefined;
      throw error;
    });
    return this.value;
  }

  /** The value if it was opened, without opening it. */
  async opened(): Promise<T | undefined> {
    return this.value?.catch(() => undefined);
  }
}

/** Hugging Face's position ids for a left-padded row: count real tokens from 0; padding gets 1. */
export function positionsFromMask(mask: number[]): number[] {
  let seen = 0;
  return mask.map((m) => (m ? seen++ : 1));
}

