// How far a weight dtype moves the logits from fp32, on the prompts of lib/model/compare-logits.ts.
// Both models load from the same folder; only `dtype` differs.
import { compareLogits, type LogitsComparison } from "../lib/model/compare-logits";
import type { Device } from "../lib/model/device";
import { loadModel } from "../lib/model/load";
import type { WeightDtype } from "../lib/onnx/gpt2-graph";

export type DtypeComparison = LogitsComparison & { dtype: WeightDtype };

export async function compareDtype(dir: string, dtype: WeightDtype, device: Device = "cpu"): Promise<DtypeComparison> {
  const reference = await loadModel(dir, { device, dtype: "fp32" });
  const other = await loadModel(dir, { device: dtype === "int8" ? "cpu" : device, dtype });
  try {
    return { dtype, ...(await compareLogits(reference, other)) };
  } finally {
    await Promise.all([reference.dispose(), other.dispose()]);
  }
}
