// How large a batch may be, checked with the sizes worked out by hand: a tiny model's logits
// (50,257 float32 per sample) and key/value cache (2 layers × key and value × 64 floats per position).
import assert from "node:assert/strict";
import { test } from "node:test";
import { configForShape } from "../../lib/config";
import { checkBatchFits } from "../../lib/generate/limits";

const tiny = { config: configForShape("tiny"), dtype: "fp32" as const };
const plenty = { bytes: 1e12, source: "test" };

test("a batch whose logits alone pass Node's largest buffer is refused, naming numSamples", () => {
  // 100,000 × 50,257 × 4 bytes = 20.1 GB in one buffer.
  assert.throws(() => checkBatchFits(tiny, 100_000, 1, 25, plenty), {
    name: "RangeError",
    message: /100,000 samples \(1 prompt × `numSamples`\) at 25 positions need buffers of 20\.1 GB, over Node's limit of 4\.3 GB for one buffer; lower `numSamples`/,
  });
  checkBatchFits(tiny, 20_000, 1, 25, plenty); // 4.02 GB of logits: just under
});

test("a batch larger than the memory left is refused with both numbers", () => {
  // 1,000 × 4 B × (50,257 logits + 2 · 2 · 2 layers · 64 · 100 positions) = 0.406 GB.
  assert.throws(() => checkBatchFits(tiny, 1000, 2, 100, { bytes: 0.3e9, source: "the memory limit of the cgroup /box (memory.max)" }), {
    message: /1,000 samples \(2 prompts × `numSamples`\) at 100 positions need about 0\.4 GB for the key\/value cache and logits, but 0\.3 GB is available \(the memory limit of the cgroup \/box \(memory\.max\)\)/,
  });
  checkBatchFits(tiny, 1000, 2, 100, { bytes: 0.41e9, source: "test" });
});
