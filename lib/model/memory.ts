// How much memory this process can still take, read the way the kernel will enforce it: a cgroup's
// limit (v2 memory.max, v1 memory.limit_in_bytes, on this cgroup or any above it) minus what that
// cgroup already uses, where one is set; and never more than what the kernel says is available
// (MemAvailable in /proc/meminfo; os.freemem() where there is no /proc). Also what loading a GPT-2
// costs at its peak, so that a model too large for the machine is refused before the kernel kills
// the process (or the notebook's kernel) instead.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Gpt2Config } from "../config";
import type { WeightDtype } from "../onnx/gpt2-graph";
import { countParameters } from "../weights/checkpoint";

/** Memory still available to this process, in bytes, and which limit decided it. */
export interface AvailableMemory {
  bytes: number;
  source: string;
}

/** `root` is where /proc and /sys are found (tests lay out a fake one). */
export function availableMemory(root = "/"): AvailableMemory {
  const read = (file: string) => {
    try {
      return fs.readFileSync(path.join(root, file), "utf8");
    } catch {
      return undefined;
    }
  };
  const kB = /^MemAvailable:\s+(\d+) kB$/m.exec(read("proc/meminfo") ?? "")?.[1];
  let best: AvailableMemory = kB ? { bytes: Number(kB) * 1024, source: "the memory the kernel reports available" } : { bytes: os.freemem(), source: "free memory" };
  for (const line of (read("proc/self/cgroup") ?? "").split("\n")) {
    const [, controllers, cgroup] = line.split(":");
    if (cgroup === undefined) continue;
    // cgroup v2 ("0::/path") and v1's memory controller ("4:memory:/path"), and every parent.
    const v2 = controllers === "";
    if (!v2 && !controllers.split(",").includes("memory")) continue;
    const base = v2 ? "sys/fs/cgroup" : "sys/fs/cgroup/memory";
    for (let dir = cgroup; ; dir = path.posix.dirname(dir)) {
      const limit = Number(read(path.posix.join(base, dir, v2 ? "memory.max" : "memory.limit_in_bytes"))?.trim());
      const used = Number(read(path.posix.join(base, dir, v2 ? "memory.current" : "memory.usage_in_bytes"))?.trim() ?? 0);
      // "max" (v2) reads as NaN; v1 writes "no limit" as a number near 2^63.
      if (Number.isFinite(limit) && limit < 2 ** 60 && limit - used < best.bytes) {
        best = { bytes: Math.max(0, limit - used), source: `the memory limit of the cgroup ${dir} (${v2 ? "memory.max" : "memory.limit_in_bytes"})` };
      }
      if (dir === "/" || dir === ".") break;
    }
  }
  return best;
}

/**
 * Peak memory of loading a model of `config` with weights stored as `dtype`, in bytes. Measured
 * on a gpt2-xl-shaped model (1.56 B parameters, 6.2 GB of float32 weights): about 7.0 GB at fp32
 * and 2.3 GB at int8 (the README's Speed section); fp16 is taken as half of fp32.
 */
export function loadPeakBytes(config: Gpt2Config, dtype: WeightDtype): number {
  const fp32Bytes = countParameters(config) * 4;
  const ratio = { fp32: 7.0 / 6.2, fp16: 3.5 / 6.2, int8: 2.3 / 6.2 }[dtype];
  return fp32Bytes * ratio + 150e6; // + Node, onnxruntime and the tokenizer
}

/** Gigabytes with one decimal, for messages. */
export function gigabytes(bytes: number): string {
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

/**
 * Why `name` cannot be loaded with `dtype` into `available` memory, with what to do instead, or
 * null when it fits.
 */
export function loadMemoryProblem(name: string, config: Gpt2Config, dtype: WeightDtype, available: AvailableMemory): string | null {
  const needed = loadPeakBytes(config, dtype);
  if (needed <= available.bytes) return null;
  const parameters = `${(countParameters(config) / 1e6).toFixed(0)} M parameters`;
  const int8 = loadPeakBytes(config, "int8");
  const instead =
    dtype !== "int8" && int8 <= available.bytes
      ? `load it with \`dtype: 'int8'\` (--dtype int8; about ${gigabytes(int8)}, with logits a little off fp32), or pick a smaller model such as gpt2`
      : "pick a smaller model such as gpt2 (about 0.7 GB), or free some memory";
  return (
    `Loading ${name} (${parameters}) with dtype '${dtype}' needs about ${gigabytes(needed)} of memory at its peak, ` +
    `but ${gigabytes(available.bytes)} is available (${available.source}); ${instead}`
  );
}
