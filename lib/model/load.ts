// Loading a GPT-2: `loadModel` finds the files (local folder, Hub id or built-in model), converts
// the checkpoint to ONNX once (lib/onnx/convert.ts), and opens an onnxruntime session on the chosen
// device; `loadModelOrDefault` adds the one rule for falling back to the built-in model.
import * as os from "node:os";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { expectOneOf, expectOptions, expectString } from "../checks";
import { parseConfig } from "../config";
import { readJsonFile } from "../file-io";
import { resolveModelFiles } from "../hub/resolve";
import type { DownloadProgress } from "../hub/download";
import type { ModelFiles, OnnxModelFiles } from "../hub/model-folder";
import { convertCheckpoint } from "../onnx/convert";
import { WEIGHT_DTYPES, type WeightDtype } from "../onnx/gpt2-graph";
import { checkAborted, interruptible } from "../interrupt";
import { loadTokenizer } from "../tokenizer/tokenizer";
import { openCheckpoint } from "../weights/checkpoint";
import { builtinModelDir, DEFAULT_MODEL, FALLBACK_MODEL, fallbackNote, isUnavailable } from "./builtin";
import { chooseDevice, DEVICES, type Device } from "./device";
import { Model } from "./model";
import { availableMemory, loadMemoryProblem } from "./memory";
import { sessionOptions } from "./session";

export interface LoadModelOptions {
  /** Where to run. `auto` tries CUDA, then WebGPU, then the CPU. @default "auto" */
  device?: Device;
  /** Called as model files download (Hub models not yet cached). */
  onProgress?: (event: DownloadProgress) => void;
  /** Hub revision (branch, tag or commit). @default "main" */
  revision?: string;
  /**
   * Run the repository's own ONNX export (Optimum layout, e.g. onnx/decoder_model_merged.onnx)
   * instead of converting model.safetensors. @default false
   */
  onnx?: boolean;
  /**
   * How the converted model stores its weights. `fp32`: as trained. `int8`: every matrix as 8-bit
   * integers with one scale per output column, multiplied by onnxruntime's DynamicQuantizeMatMul:
   * about a quarter of the memory and faster on the CPU, with logits that differ from fp32
   * (bench/results.md has the measured speed and difference); CPU only, so `auto` then means `cpu`.
   * `fp16`: float16 weights, activations and cache, for GPUs (the CPU runs it, slowly).
   * Not for `onnx: true` (the export runs as it is). @default "fp32"
   */
  dtype?: WeightDtype;
}

const LOAD_OPTIONS = ["device", "onProgress", "revision", "onnx", "dtype"] as const;

/** Loads a GPT-2 model: a local Hugging Face style folder, a Hub id such as `gpt2`, or `shakespeare`. */
export async function loadModel(nameOrDir: string, options: LoadModelOptions = {}): Promise<Model> {
  expectString(nameOrDir, "nameOrDir", true);
  expectOptions(options, "options", LOAD_OPTIONS);
  const { device = "auto", onProgress, revision, onnx = false, dtype = "fp32" } = options;
  expectOneOf(device, "device", DEVICES);
  validateDtype(dtype, device, onnx);
  // A kernel interrupt (Jupyter's ■) stops a download or a conversion between two chunks.
  return interruptible("loading of the model", async (signal) => {
    const choice = await chooseDevice(dtype === "int8" && device === "auto" ? "cpu" : device);
    const files = await findModelFiles(nameOrDir, { onProgress, revision, onnx, signal });
    const config = parseConfig(readJsonFile(files.config), files.config);
    // The config's sizes are checked against the weights before they size anything.
    if (files.weights) openCheckpoint(files.weights, config).close();
    // Refused here rather than killed by the kernel halfway through the load.
    const problem = loadMemoryProblem(nameOrDir, config, files.onnx ? "fp32" : dtype, availableMemory());
    if (problem) throw new RangeError(problem);
    const tokenizer = loadTokenizer(files.dir);
    // Our own conversions run decoder.onnx, which can skip the output head for all but the last position.
    const converted = files.onnx ? null : await convertCheckpoint(files.weights!, config, { dtype, signal });
    const onnxPath = files.onnx ?? converted!.decoder;
    // An export's whole cache comes back each step; on WebGPU it stays in GPU memory (our own
    // decoder returns only the newest positions, see lib/onnx/gpt2-graph.ts `cacheWindow`).
    const session = await ort.InferenceSession.create(onnxPath, sessionOptions(choice.device, files.onnx ? config.n_layer : 0));
    if (files.onnx) checkExportLayers(session, config.n_layer, files);
    // Interrupted while onnxruntime was loading: nobody will receive the model, so free it.
    if (signal.aborted) await session.release();
    checkAborted(signal);
    return new Model(nameOrDir, files.dir, config, tokenizer, session, choice.device, choice.skipped, dtype, converted);
  });
}

/** An ONNX export's cache inputs must match config.json's n_layer. */
function checkExportLayers(session: ort.InferenceSession, layers: number, files: { config: string; onnx?: string }): void {
  const count = session.inputNames.filter((name) => /^past_key_values\.\d+\.key$/.test(name)).length;
  if (count !== layers) {
    void session.release();
    throw new RangeError(
      `${files.config} says n_layer is ${layers}, but ${files.onnx} has the key/value inputs of ${count} layers; the config and the export belong to different models`,
    );
  }
}

/** Checks the `dtype` option against the others; `RangeError` naming the conflict and the fix. */
function validateDtype(dtype: WeightDtype, device: Device, onnx: boolean): void {
  expectOneOf(dtype, "dtype", WEIGHT_DTYPES);
  if (dtype === "int8" && (device === "cuda" || device === "webgpu")) {
    throw new RangeError(`\`dtype\` 'int8' runs on the CPU only, got device '${device}'; use device 'cpu' (or 'auto'), or dtype 'fp16' on a GPU`);
  }
  if (dtype !== "fp32" && onnx) {
    throw new RangeError(
      `\`dtype\` '${dtype}' applies to models converted from model.safetensors; with \`onnx: true\` the export runs as it is, so leave out \`dtype\``,
    );
  }
}

/** Finds (and for Hub ids, downloads) the files of a model: a folder, a Hub id or a built-in name. */
export async function findModelFiles(
  nameOrDir: string,
  { onProgress, revision, onnx = false, signal }: Pick<LoadModelOptions, "onProgress" | "revision" | "onnx"> & { signal?: AbortSignal },
): Promise<ModelFiles | OnnxModelFiles> {
  const builtin = builtinModelDir(nameOrDir);
  if (builtin) return resolveModelFiles(builtin, { onnx });
  return resolveModelFiles(nameOrDir.startsWith("~/") ? path.join(os.homedir(), nameOrDir.slice(2)) : nameOrDir, {
    onProgress,
    revision,
    onnx,
    signal,
  });
}

/** A model, and the one line to show when the built-in model stood in for the default. */
export interface LoadedModel {
  model: Model;
  /** Set when no model was named and the built-in one replaced `gpt2` (offline, not cached). */
  note?: string;
}

/**
 * Loads `name`, or when it is empty or undefined the default model (`gpt2`), falling back to the
 * built-in `shakespeare` model only if `gpt2` is neither cached nor downloadable. A model that was
 * asked for by name is never replaced: its failure is thrown.
 */
export async function loadModelOrDefault(name: string | undefined, options: LoadModelOptions = {}): Promise<LoadedModel> {
  if (name) return { model: await loadModel(name, options) };
  try {
    return { model: await loadModel(DEFAULT_MODEL, options) };
  } catch (error) {
    if (!isUnavailable(error)) throw error;
    return { model: await loadModel(FALLBACK_MODEL, options), note: fallbackNote(error) };
  }
}
