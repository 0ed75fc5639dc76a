// Selecting the largest entries of a row, the one helper that top-k, top-p and the top-N lists all
// use: one pass with a k-entry min-heap (O(vocab · log k), no copy of the row, no full sort). Ties
// count every copy, as torch.topk does: the 2nd largest of [5, 5, 3] is 5.
// Rows are flat [vocab] arrays, or a subset of one given by ascending ids.
import { expectInteger } from "../checks";

/** The k largest entries of a row: ids and values in heap order (not sorted); `values[0]` is the k-th largest. */
export interface Largest {
  ids: Int32Array;
  values: Float64Array;
}

/**
 * The `k` largest of `values[at(j)]` for j in [0, count): with `ids`, the entries those ids name,
 * else the whole row. Among equal values the earliest are kept. Throws `RangeError` for NaN.
 * `k` must be in [1, count]; callers check it.
 */
export function largest(values: ArrayLike<number>, k: number, ids?: ArrayLike<number>): Largest {
  const count = ids ? ids.length : values.length;
  const heapValues = new Float64Array(k);
  const heapIds = new Int32Array(k);
  let size = 0;
  for (let j = 0; j < count; j++) {
    const id = ids ? ids[j] : j;
    const v = values[id];
    if (v !== v) throw nanAt("values", id);
    if (size < k) push(heapValues, heapIds, size++, v, id);
    else if (v > heapValues[0]) replaceTop(heapValues, heapIds, k, v, id);
  }
  return { ids: heapIds, values: heapValues };
}

/** The k-th largest value of a row (k = 1 is the maximum), every tied copy counted. */
export function kthLargest(values: ArrayLike<number>, k: number, ids?: ArrayLike<number>): number {
  expectInteger(k, "k", 1, ids ? ids.length : values.length);
  return largest(values, k, ids).values[0];
}

/** The entries of a `largest` result, most likely first, equal values by ascending id. */
export function sortedLargest({ ids, values }: Largest): { id: number; value: number }[] {
  return Array.from(ids, (id, j) => ({ id, value: values[j] })).sort((a, b) => b.value - a.value || a.id - b.id);
}

export function nanAt(name: string, index: number): RangeError {
  return new RangeError(`Expected \`${name}\` to hold no NaN, got NaN at index ${index}`);
}

// A binary min-heap of values[0..size), each with an id beside it. The root is the worst entry:
// the smallest value and, among equal values, the largest id, so a tie at the boundary keeps the
// lowest ids.
function below(va: number, ia: number, vb: number, ib: number): boolean {
  return va < vb || (va === vb && ia > ib);
}

function push(values: Float64Array, ids: Int32Array, at: number, value: number, id: number): void {
  while (at > 0) {
    const parent = (at - 1) >> 1;
    if (!below(value, id, values[parent], ids[parent])) break;
    values[at] = values[parent];
    ids[at] = ids[parent];
    at = parent;
  }
  values[at] = value;
  ids[at] = id;
}

function replaceTop(values: Float64Array, ids: Int32Array, size: number, value: number, id: number): void {
  let at = 0;
  for (;;) {
    let child = 2 * at + 1;
    if (child >= size) break;
    if (child + 1 < size && below(values[child + 1], ids[child + 1], values[child], ids[child])) child++;
    if (!below(values[child], ids[child], value, id)) break;
    values[at] = values[child];
    ids[at] = ids[child];
    at = child;
  }
  values[at] = value;
  ids[at] = id;
}
