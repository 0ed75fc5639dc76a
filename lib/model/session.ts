// The onnxruntime side of a model: the session settings gpt2-lab decodes with, and packing token
// ids into the int64 tensors the decoder takes (checked first, so a bad id never reaches onnxruntime).
import * as ort from "onnxruntime-node";
import { executionProviders, type ResolvedDevice } from "./device";

/**
 * onnxruntime settings for decoding: every graph optimization (onnxruntime fuses LayerNorm, gelu
 * and the attention scale), its default of one intra-op thread per physical core, and worker
 * threads that sleep rather than spin between operators: spinning workers win on an idle machine
 * and lose when other processes keep the cores busy (the measured costs are in bench/results.md
 * and the README's Speed section). On WebGPU the `present` caches of a `layers`-layer export stay in
 * GPU memory between steps (`Model.disposeCache` frees them) instead of crossing to the CPU and back.
 */
export function sessionOptions(device: ResolvedDevice, layers = 0, { mapWeights = false } = {}): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: executionProviders(device),
    graphOptimizationLevel: "all",
    // `mapWeights` (a second session over the same weights file, run now and then): on the CPU, the
    // weights stay mapped from the file instead of being repacked into a copy of their own.
    extra: { session: { intra_op: { allow_spinning: "0" }, ...(mapWeights && device === "cpu" ? { disable_prepacking: "1" } : {}) } },
  };
  if (device === "webgpu" && layers > 0) {
    const names = Array.from({ length: layers }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat();
    options.preferredOutputLocation = Object.fromEntries(names.map((name) => [name, "gpu-buffer" as const]));
  }
  return options;
}

/** Packs equal-length rows of integers below `limit` into an int64 tensor. */
export function int64Tensor(rows: number[][], width: number, name: string, limit: number): ort.Tensor {
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
