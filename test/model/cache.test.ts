// Folding the recent positions into the settled cache, on tensors small enough to write out by hand:
// 2 rows × 2 heads, head size 1, so each (row, head) block is a list of positions.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as ort from "onnxruntime-node";
import { foldRecent } from "../../lib/model/cache";

const cache = (values: number[], length: number) => [new ort.Tensor("float32", Float32Array.from(values), [2, 2, length, 1])];

test("the recent positions land after each block's settled ones", async () => {
  // Blocks (row 0, head 0), (0, 1), (1, 0), (1, 1): settled 10 11 | 20 21 | 30 31 | 40 41, recent 12 | 22 | 32 | 42.
  const folded = await foldRecent({ settled: cache([10, 11, 20, 21, 30, 31, 40, 41], 2), recent: cache([12, 22, 32, 42], 1), room: null }, 4);
  assert.equal(folded.allocated, true);
  assert.deepEqual(folded.settled[0].dims, [2, 2, 3, 1]);
  assert.deepEqual([...(folded.settled[0].data as Float32Array)], [10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42]);
  assert.equal(folded.room.capacity, 4);
  assert.equal(folded.room.buffers[0].length, 2 * 2 * 4);
});

test("a fold with room left rewrites the same buffer; one without allocates a bigger one", async () => {
  const first = await foldRecent({ settled: cache([10, 20, 30, 40], 1), recent: cache([11, 21, 31, 41], 1), room: null }, 3);
  const second = await foldRecent({ settled: first.settled, recent: cache([12, 22, 32, 42], 1), room: first.room }, 3);
  assert.equal(second.allocated, false);
  assert.equal(second.room.buffers[0], first.room.buffers[0]);
  assert.deepEqual([...(second.settled[0].data as Float32Array)], [10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42]);
  const third = await foldRecent({ settled: second.settled, recent: cache([13, 23, 33, 43], 1), room: second.room }, 8);
  assert.equal(third.allocated, true);
  assert.equal(third.room.capacity, 8);
  assert.deepEqual([...(third.settled[0].data as Float32Array)], [10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33, 40, 41, 42, 43]);
});
