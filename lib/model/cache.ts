// The key/value cache a decoder run returns and the next run reads: one key and one value tensor per
// layer, [batch, heads, length, headDim], in CPU memory or (WebGPU) in GPU memory. Only the model
// handles it (model.ts): making the empty cache of a first run, copying rows for samples that
// share a prompt (moving a GPU cache to the CPU first), and freeing GPU memory.
import * as ort from "onnxruntime-node";

/** The key/value cache: for layer i, tensors 2i (keys) and 2i + 1 (values), [batch, heads, length, headDim]. */
export type KvCache = ort.Tensor[];

/** The cache of no positions, as the first run of a decoder takes it. */
export function emptyCache(layers: number, batch: number, heads: number, headDim: number, float16: boolean): KvCache {
  const empty = () =>
    float16
      ? new ort.Tensor("float16", new Uint16Array(0), [batch, heads, 0, headDim])
      : new ort.Tensor("float32", new Float32Array(0), [batch, heads, 0, headDim]);
  return Array.from({ length: 2 * layers }, empty);
}

/** Positions the cache holds. */
export function cacheLength(cache: KvCache): number {
  return cache[0].dims[2];
}

/**
 * The cache of a new batch whose row r is row `rows[r]` of `cache`, in CPU memory. A cache in GPU
 * memory is read back first and freed.
 */
export async function gatherCacheRows(cache: KvCache, rows: readonly number[]): Promise<KvCache> {
  return Promise.all(
    cache.map(async (tensor) => {
      const data = (await tensor.getData(true)) as Float32Array | Uint16Array;
      const gathered = gatherBlocks(data, tensor.dims[0], rows) as Float32Array;
      return new ort.Tensor(tensor.type as "float32", gathered, [rows.length, ...tensor.dims.slice(1)]);
    }),
  );
}

/** Frees the tensors of a cache that live in GPU memory; those in CPU memory are left to the garbage collector. */
export function disposeCache(cache: KvCache | null): void {
  for (const tensor of cache ?? []) if (tensor.location === "gpu-buffer") tensor.dispose();
}

/** `data` cut into `count` equal blocks, and block `rows[r]` written as block r of the result. */
export function gatherBlocks<T extends Float32Array | Uint16Array>(data: T, count: number, rows: readonly number[]): T {
  const size = data.length / count;
  const out = new (data.constructor as new (length: number) => T)(size * rows.length);
  rows.forEach((block, r) => out.set(data.subarray(block * size, (block + 1) * size), r * size));
  return out;
}

/**
 * A generation's cache as a windowed decoder takes it (see `cacheWindow` in lib/onnx/gpt2-graph.ts):
 * `settled`, one [batch, heads, length, headDim] tensor per layer's keys and values, which changes
 * only when the window is folded into it, and `recent`, [batch, recent, n_embd] per tensor, the
 * positions since. Decoders without a window keep everything in `settled` and `recent` is null.
 */
export interface DecodeState {
  settled: KvCache;
  recent: KvCache | null;
}

/** Positions a state holds. */
export function stateLength({ settled, recent }: DecodeState): number {
  return cacheLength(settled) + (recent ? recent[0].dims[1] : 0);
}

/** The recent part of no positions. */
export function emptyRecent(layers: number, batch: number, width: number, float16: boolean): KvCache {
  const empty = () => (float16 ? new ort.Tensor("float16", new Uint16Array(0), [batch, 0, width]) : new ort.Tensor("float32", new Float32Array(0), [batch, 0, width]));
  return Array.from({ length: 2 * layers }, empty);
}

/**
 * `settled` [batch, heads, past, headDim] with `recent` [batch, recent, heads · headDim] appended:
 * one new [batch, heads, past + recent, headDim] tensor in CPU memory.
 */
export async function appendRecent(settled: ort.Tensor, recent: ort.Tensor): Promise<ort.Tensor> {
  const [batch, heads, past, headDim] = settled.dims;
  const added = recent.dims[1];
  const from = (await settled.getData()) as Float32Array | Uint16Array;
  const rows = (await recent.getData()) as Float32Array | Uint16Array;
  const length = past + added;
  const out = new (from.constructor as new (n: number) => Float32Array | Uint16Array)(batch * heads * length * headDim);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const at = (b * heads + h) * length * headDim;
      out.set(from.subarray((b * heads + h) * past * headDim, (b * heads + h + 1) * past * headDim), at);
      for (let t = 0; t < added; t++) {
        const row = (b * added + t) * heads * headDim + h * headDim;
        out.set(rows.subarray(row, row + headDim), at + (past + t) * headDim);
      }
    }
  }
  return new ort.Tensor(settled.type as "float32", out as Float32Array, [batch, heads, length, headDim]);
}
