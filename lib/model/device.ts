// Choosing where the model runs: onnxruntime-node's CUDA or WebGPU execution provider when one
// works on this machine, the CPU otherwise. Each provider is probed with a one-node model, so
// finding out costs milliseconds rather than a failed load of a multi-gigabyte model.
// `auto` never fails; an explicit device that cannot run fails with what is missing and the fix.
import * as fs from "node:fs";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { onnx } from "onnx-proto";
import { expectOneOf } from "../checks";

/** Where to run: `auto` tries CUDA, then WebGPU, then the CPU. */
export type Device = "auto" | "cpu" | "cuda" | "webgpu";
export type ResolvedDevice = Exclude<Device, "auto">;
export const DEVICES: readonly Device[] = ["auto", "cpu", "cuda", "webgpu"];

/** What `chooseDevice` decided, and why the faster devices were passed over. */
export interface DeviceChoice {
  device: ResolvedDevice;
  /** One line per device tried and not used, e.g. `cuda: libcudart.so.12 not found`. */
  skipped: string[];
}

const HOW_TO_GET: Record<Exclude<ResolvedDevice, "cpu">, string> = {
  cuda:
    "The CUDA execution provider needs an NVIDIA GPU with CUDA 12 and cuDNN 9 libraries, and its binaries, " +
    "which `npm install` skips by default: run `npm run install-cuda` once (needs network access).",
  webgpu:
    "The WebGPU execution provider needs a GPU with a working Vulkan driver (Linux), Direct3D 12 (Windows) or Metal (macOS).",
};

/** Checks `device` and, for `auto`, picks the first that works. */
export async function chooseDevice(device: Device = "auto"): Promise<DeviceChoice> {
  expectOneOf(device, "device", DEVICES);
  if (device === "cpu") return { device, skipped: [] };
  if (device !== "auto") {
    const problem = await probe(device);
    if (problem) throw new Error(`Device '${device}' is not available: ${problem}. ${HOW_TO_GET[device]} Or use device 'cpu'.`);
    return { device, skipped: [] };
  }
  const skipped: string[] = [];
  for (const candidate of ["cuda", "webgpu"] as const) {
    const problem = await probe(candidate);
    if (!problem) return { device: candidate, skipped };
    skipped.push(`${candidate}: ${problem}`);
  }
  return { device: "cpu", skipped };
}

/** onnxruntime's name for each device's execution provider. */
export function executionProviders(device: ResolvedDevice): string[] {
  return device === "cpu" ? ["cpu"] : [device, "cpu"];
}

/** Runs a one-node model on `device`; returns why it failed, or null if it worked. */
async function probe(device: "cuda" | "webgpu"): Promise<string | null> {
  if (!ort.listSupportedBackends().some((b) => b.name === device)) {
    return `this build of onnxruntime-node has no ${device} provider`;
  }
  if (device === "cuda" && !cudaBinariesInstalled()) {
    return "the CUDA provider's binaries are not installed";
  }
  if (device === "webgpu" && process.platform === "linux" && !hasVulkanLoader()) {
    return "no Vulkan loader (libvulkan.so.1) is installed";
  }
  // A failed probe throws with the reason; its session's own log level keeps onnxruntime from
  // also printing it to stderr (nothing process-wide is changed).
  try {
    const session = await ort.InferenceSession.create(identityModel(), { executionProviders: [device], logSeverityLevel: 4 });
    const x = new ort.Tensor("float32", new Float32Array([1, 2]), [2]);
    await session.run({ x });
    await session.release();
    return null;
  } catch (error) {
    return firstLine(error);
  }
}

/** The CUDA provider ships outside the npm package (see `npm run install-cuda`). */
function cudaBinariesInstalled(): boolean {
  const library = process.platform === "win32" ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";
  const packageDir = path.dirname(require.resolve("onnxruntime-node/package.json"));
  return fs.existsSync(path.join(packageDir, "bin", "napi-v6", process.platform, process.arch, library));
}

/** Dawn, behind the WebGPU provider, needs Vulkan on Linux; without it the probe only prints warnings. */
function hasVulkanLoader(): boolean {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean),
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
  ];
  return dirs.some((dir) => fs.existsSync(path.join(dir, "libvulkan.so.1")));
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0].trim();
}

/** A model computing y = x, for probing providers. */
function identityModel(): Uint8Array {
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const tensor = (name: string) => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: 2 }] } } } });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: "", version: 17 }],
      graph: { name: "probe", node: [{ opType: "Relu", input: ["x"], output: ["y"] }], input: [tensor("x")], output: [tensor("y")] },
    }),
  ).finish();
}
