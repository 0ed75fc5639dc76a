// The key/value cache a decoder run returns and the next run reads: one key and one value tensor per
// layer, [batch, heads, length, headDim], in CPU memory or (WebGPU) in GPU memory. Only the model
// handles it (model.ts): making the empty cache of a first run, copying rows for samples that
// share a prompt (moving a GPU cache to the CPU first), folding a windowed decoder's recent
// positions into the settled ones (in place, once there is room), and freeing GPU memory.
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

/**
 * Makes row r of every tensor a copy of row `rows[r]`, in place, as beam search needs when a
 * hypothesis continues another beam. Only the rows that are read after being overwritten are
 * copied aside, into `scratch` (grown when too small). Tensors in GPU memory are read back and
 * replaced instead.
 */
export async function reorderRows(cache: KvCache, rows: readonly number[], scratch: Scratch): Promise<void> {
  const moved = rows.flatMap((from, r) => (from === r ? [] : [r]));
  if (moved.length === 0) return;
  // Source rows that are themselves overwritten must be saved first.
  const overwritten = new Set(moved);
  const saved = [...new Set(moved.map((r) => rows[r]))].filter((from) => overwritten.has(from));
  for (const [t, tensor] of cache.entries()) {
    if (tensor.location !== "cpu") {
      cache[t] = (await gatherCacheRows([tensor], rows))[0];
      continue;
    }
    const data = tensor.data as Float32Array | Uint16Array;
    const size = data.length / rows.length;
    const aside = scratch.take(data, saved.length * size);
    saved.forEach((from, s) => aside.set(data.subarray(from * size, (from + 1) * size), s * size));
    for (const r of moved) {
      const s = saved.indexOf(rows[r]);
      data.set(s >= 0 ? aside.subarray(s * size, (s + 1) * size) : data.subarray(rows[r] * size, (rows[r] + 1) * size), r * size);
    }
  }
}

/** Memory set aside for `reorderRows`, kept between calls and grown by doubling. */
export class Scratch {
  private buffers = new Map<Function, Float32Array | Uint16Array>();
  /** Allocations so far (each time the buffer was too small). */
  allocations = 0;

  /** A buffer of `data`'s type with at least `length` elements. */
  take<T extends Float32Array | Uint16Array>(data: T, length: number): T {
    const type = data.constructor as new (n: number) => T;
    const held = this.buffers.get(type) as T | undefined;
    if (held && held.length >= length) return held;
    this.allocations++;
    const fresh = new type(Math.max(length, 2 * (held?.length ?? 0)));
    this.buffers.set(type, fresh);
    return fresh;
  }
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
 * A generation's cache as a windowed decoder takes it (see `cacheWindow` in lib/onnx/gpt2-graph.ts),
 * in two caches of the same layout: `settled`, which changes only when the window is folded into
 * it, and `recent`, the positions since. Decoders without a window keep everything in `settled`
 * and `recent` is null. `room`, where set, holds the buffers `settled` lies at the start of.
 */
export interface DecodeState {
  settled: KvCache;
  recent: KvCache | null;
  room: CacheRoom | null;
}

/**
 * One buffer per cache tensor with space for `capacity` positions in each (row, head) block: a fold
 * rewrites the settled cache inside it instead of allocating a new one, so the state it came from
 * is used up.
 */
export interface CacheRoom {
  buffers: (Float32Array | Uint16Array)[];
  capacity: number;
}

/** Positions a state holds. */
export function stateLength({ settled, recent }: DecodeState): number {
  return cacheLength(settled) + (recent ? cacheLength(recent) : 0);
}

/**
 * The settled cache with the recent positions appended, [batch, heads, past + recent, headDim] in
 * CPU memory: written in place when `state.room` has space, else into new buffers with space for
 * `capacity` positions (at least the new length). `allocated` says which.
 */
export async function foldRecent({ settled, recent, room }: DecodeState, capacity: number): Promise<{ settled: KvCache; room: CacheRoom; allocated: boolean }> {
  const [batch, heads, past, headDim] = settled[0].dims;
  const added = recent ? cacheLength(recent) : 0;
  const length = past + added;
  const allocated = !room || room.capacity < length;
  const size = allocated ? Math.max(capacity, length) : room.capacity;
  const blocks = batch * heads;
  const buffers = await Promise.all(
    settled.map(async (tensor, t) => {
      const from = (await tensor.getData()) as Float32Array | Uint16Array;
      const into = allocated ? new (from.constructor as new (n: number) => Float32Array | Uint16Array)(blocks * size * headDim) : room.buffers[t];
      const inPlace = from.buffer === into.buffer;
      // Each (row, head) block becomes its past positions followed by its recent ones. Blocks only
      // move towards the end, so going from the last one back never overwrites one still to move.
      for (let block = blocks - 1; block >= 0; block--) {
        const source = block * past * headDim;
        if (inPlace) into.copyWithin(block * length * headDim, source, source + past * headDim);
        else into.set(from.subarray(source, source + past * headDim), block * length * headDim);
      }
      if (recent) {
        const rows = (await recent[t].getData()) as Float32Array | Uint16Array;
        for (let block = 0; block < blocks; block++) {
          into.set(rows.subarray(block * added * headDim, (block + 1) * added * headDim), (block * length + past) * headDim);
        }
      }
      return into;
    }),
  );
  const type = settled[0].type as "float32";
  const tensors = buffers.map((buffer) => new ort.Tensor(type, buffer.subarray(0, blocks * length * headDim) as Float32Array, [batch, heads, length, headDim]));
  return { settled: tensors, room: { buffers, capacity: size }, allocated };
}
