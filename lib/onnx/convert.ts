// Turning a GPT-2 checkpoint (model.safetensors) into ONNX once and reusing it: the result is
// cached under a key made of the checkpoint's sha256, the config, the weight dtype and the
// converter's version, so a changed checkpoint, config or graph builder gives a fresh conversion.
// Each conversion holds four graphs (five in float32) over one weights file. model.onnx has the form and the exact
// decoder signature of Optimum's exports, standard ONNX operators only (for other runtimes, e.g.
// transformers.js). decoder.onnx is what gpt2-lab decodes with: it adds `logits_to_keep`, so decoding
// skips the output head for all but the last position, and takes the cache in two parts
// (`cacheWindow`), so a step returns only the newest keys and values and copies none of the rest.
// inspect.onnx and lens.onnx are what `model.inspect` runs to show attention, the residual stream
// and the logit lens, and intervene.onnx (float32 only) what attribution, ablation and patching
// run; decoding never pays for their extra outputs.
// The cache lives in $GPT2_LAB_CACHE, else $HF_HOME/gpt2-lab (~/.cache/huggingface/gpt2-lab).
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Gpt2Config } from "../config";
import { fileSha256, writeFileAtomically } from "../file-io";
import { labCacheDir } from "../hub/env";
import { isWriteFailure } from "../hub/errors";
import { openCheckpoint } from "../weights/checkpoint";
import { buildGpt2Graph, type WeightDtype } from "./gpt2-graph";
import { buildLensGraph } from "./lens-graph";
import { type Manifest, MANIFEST_FILE, ONNX_FILE, writeOnnxModels } from "./write-model";

/** Bump when the graph changes, so cached conversions are rebuilt. */
export const CONVERTER_VERSION = "8";
/** The graph gpt2-lab runs (`logits_to_keep`, the cache in two parts), beside model.onnx. */
export const DECODER_FILE = "decoder.onnx";
/** The inspection pass (lib/onnx/gpt2-graph.ts `inspect`) and the logit lens (lens-graph.ts). */
export const INSPECT_FILE = "inspect.onnx";
export const LENS_FILE = "lens.onnx";
/** The intervention pass (lib/onnx/intervention-graph.ts): float32 conversions only. */
export const INTERVENE_FILE = "intervene.onnx";

export interface ConvertOptions {
  /** How the weights are stored: see `Gpt2GraphOptions.dtype`. @default "fp32" */
  dtype?: WeightDtype;
  /** The cache folder. @default labCacheDir() */
  root?: string;
  /** Stops the conversion between two weights; its staging folder is removed. */
  signal?: AbortSignal;
}

/** The files of one conversion. */
export interface ConvertedModel {
  /** The folder holding both graphs and model.onnx.data. */
  dir: string;
  /** model.onnx: Optimum's decoder signature exactly. */
  model: string;
  /** decoder.onnx: the same model with a `logits_to_keep` input and the cache in two parts. */
  decoder: string;
  /** inspect.onnx: one pass with attention weights and the residual stream as outputs. */
  inspect: string;
  /** lens.onnx: ln_f and the output head over residual-stream states, top tokens out. */
  lens: string;
  /** intervene.onnx: one pass with heads, MLPs and the residual stream scaled or replaced; float32 conversions only. */
  intervene: string | null;
}

/** The path of the float32 model.onnx converted from `weightsPath` (see `convertCheckpoint`). */
export async function convertedModelPath(weightsPath: string, config: Gpt2Config, root = labCacheDir()): Promise<string> {
  return (await convertCheckpoint(weightsPath, config, { root })).model;
}

/**
 * Returns the ONNX files converted from `weightsPath`, converting first if the cache has none.
 * Safe to call from two processes at once: each writes its own temporary folder and the first to
 * finish wins.
 */
export async function convertCheckpoint(weightsPath: string, config: Gpt2Config, { dtype = "fp32", root = labCacheDir(), signal }: ConvertOptions = {}): Promise<ConvertedModel> {
  // Opening checks every tensor's name and shape against the config, cached conversion or not.
  const checkpoint = openCheckpoint(weightsPath, config);
  try {
    const sha256 = await checkpointSha256(checkpoint.files, root);
    const configKey = createHash("sha256").update(JSON.stringify(graphConfig(config))).digest("hex").slice(0, 12);
    const dir = path.join(root, "onnx", `${sha256}-${configKey}-${dtype}-v${CONVERTER_VERSION}`);
    const converted = {
      dir,
      model: path.join(dir, ONNX_FILE),
      decoder: path.join(dir, DECODER_FILE),
      inspect: path.join(dir, INSPECT_FILE),
      lens: path.join(dir, LENS_FILE),
      intervene: dtype === "fp32" ? path.join(dir, INTERVENE_FILE) : null,
    };
    if (fs.existsSync(dir)) {
      if (conversionProblem(dir) === null) return converted;
      // Damaged (a file truncated or deleted since): moved aside and converted again.
      const aside = `${dir}.damaged-${process.pid}-${Date.now()}`;
      fs.renameSync(dir, aside);
      fs.rmSync(aside, { recursive: true, force: true });
    }
    removeStalePartials(path.dirname(dir));
    try {
      fs.mkdirSync(path.dirname(dir), { recursive: true });
    } catch (error) {
      throw new Error(`Cannot create the model cache folder ${path.dirname(dir)} (${(error as Error).message}); set GPT2_LAB_CACHE to a writable folder`);
    }
    try {
      const graphs = [
        { file: ONNX_FILE, graph: buildGpt2Graph(config, checkpoint, { dtype }) },
        { file: DECODER_FILE, graph: buildGpt2Graph(config, checkpoint, { dtype, logitsToKeep: true, cacheWindow: true }) },
        { file: INSPECT_FILE, graph: buildGpt2Graph(config, checkpoint, { dtype, inspect: true }) },
        { file: LENS_FILE, graph: buildLensGraph(config, checkpoint, dtype) },
        ...(dtype === "fp32" ? [{ file: INTERVENE_FILE, graph: buildGpt2Graph(config, checkpoint, { intervene: true }) }] : []),
      ];
      await writeOnnxModels(dir, graphs, `converter ${CONVERTER_VERSION}`, signal);
    } catch (error) {
      if (isWriteFailure(error)) {
        throw new Error(`Cannot write the converted model under ${path.dirname(dir)} (${error.code}); free some space or set GPT2_LAB_CACHE to another folder`);
      }
      throw error;
    }
    return converted;
  } finally {
    checkpoint.close();
  }
}

/** Why the conversion in `dir` cannot be used (a file missing or of the wrong size), or null if it can. */
export function conversionProblem(dir: string): string | null {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), "utf8"));
  } catch {
    return `${MANIFEST_FILE} is missing or unreadable`;
  }
  for (const [file, size] of Object.entries(manifest.files ?? {})) {
    const actual = fs.statSync(path.join(dir, file), { throwIfNoEntry: false })?.size;
    if (actual !== size) return actual === undefined ? `${file} is missing` : `${file} has ${actual} bytes instead of ${size}`;
  }
  return Object.keys(manifest.files ?? {}).length > 0 ? null : `${MANIFEST_FILE} lists no files`;
}

/** A conversion folder in the cache, or the staging folder of one that was interrupted. */
export interface CachedConversion {
  path: string;
  sizeBytes: number;
  /** `interrupted`: staging left by a process that is gone (removed by the next conversion). */
  state: "complete" | "damaged" | "in progress" | "interrupted";
}

/** Every conversion under `root`, with its size and state. */
export function listConversions(root = labCacheDir()): CachedConversion[] {
  const onnxDir = path.join(root, "onnx");
  const names = fs.existsSync(onnxDir) ? fs.readdirSync(onnxDir).sort() : [];
  return names.map((name) => {
    const full = path.join(onnxDir, name);
    const owner = STAGING.exec(name)?.[1];
    const state = owner ? (isAlive(Number(owner)) ? "in progress" : "interrupted") : conversionProblem(full) === null ? "complete" : "damaged";
    return { path: full, sizeBytes: folderSize(full), state };
  });
}

/** `{dir}.partial-{pid}-{time}` (write-model.ts) or `.damaged-…`: the pid is the owner's. */
const STAGING = /\.(?:partial|damaged)-(\d+)-\d+$/;

/** Removes the staging folders under `onnxDir` whose process is gone (a crash, kill -9, power loss). */
function removeStalePartials(onnxDir: string): void {
  for (const name of fs.existsSync(onnxDir) ? fs.readdirSync(onnxDir) : []) {
    const owner = STAGING.exec(name)?.[1];
    if (owner && !isAlive(Number(owner))) fs.rmSync(path.join(onnxDir, name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function folderSize(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).size;
  }
  return total;
}

/** The config fields the graph depends on. */
function graphConfig(config: Gpt2Config) {
  const { n_layer, n_head, n_embd, n_positions, vocab_size, layer_norm_epsilon, n_inner } = config;
  return { n_layer, n_head, n_embd, n_positions, vocab_size, layer_norm_epsilon, n_inner };
}

/**
 * The sha256 of a checkpoint made of `parts` (its `files`). Hub cache blobs are named by it
 * already; other files are hashed once and the result remembered by path, size and modification time.
 */
async function checkpointSha256(parts: string[], root: string): Promise<string> {
  if (parts.length === 1) return memoizedSha256(parts[0], root);
  // A sharded checkpoint: the hash of its files' hashes, index included.
  const hash = createHash("sha256");
  for (const part of parts) hash.update(await memoizedSha256(part, root));
  return hash.digest("hex");
}

/** One file's sha256: the blob name in a Hub cache, else hashed once and remembered under `root`. */
async function memoizedSha256(weightsPath: string, root: string): Promise<string> {
  const real = fs.realpathSync(weightsPath);
  const base = path.basename(real);
  if (/^[0-9a-f]{64}$/.test(base) && path.basename(path.dirname(real)) === "blobs") return base;
  const stat = fs.statSync(real);
  const memoPath = path.join(root, "sha256", createHash("sha256").update(real).digest("hex").slice(0, 32) + ".json");
  try {
    const memo = JSON.parse(fs.readFileSync(memoPath, "utf8"));
    if (memo.path === real && memo.size === stat.size && memo.mtimeMs === stat.mtimeMs) return memo.sha256;
  } catch {
    // No memo yet, or an unreadable one: hash the file.
  }
  const sha256 = await fileSha256(real);
  try {
    fs.mkdirSync(path.dirname(memoPath), { recursive: true });
    writeFileAtomically(memoPath, JSON.stringify({ path: real, size: stat.size, mtimeMs: stat.mtimeMs, sha256 }));
  } catch {
    // The memo only saves time; a read-only cache still converts correctly.
  }
  return sha256;
}
