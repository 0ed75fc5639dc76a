// GPT-2's parameters by Hugging Face name and layout, and reading them from a checkpoint.
// Layout follows transformers' GPT2LMHeadModel: Conv1D weights are stored [in, out] (the transpose of
// nn.Linear), c_attn packs query, key and value side by side, and the output head reuses `wte`.
// Real checkpoints differ in small ways that `openCheckpoint` hides: a `transformer.` prefix,
// an explicit `lm_head.weight` (a copy of wte), and `h.{i}.attn.bias` causal-mask buffers (ignored).
import { type Gpt2Config, innerSize } from "../config";
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { SafetensorsFile } from "./safetensors";

export interface ParameterSpec {
  /** Hugging Face name without the `transformer.` prefix, e.g. `h.0.attn.c_attn.weight`. */
  name: string;
  shape: number[];
}

/** Every parameter of a GPT-2 model, in the order Hugging Face lists them. */
export function parameterSpecs(config: Gpt2Config): ParameterSpec[] {
  const d = config.n_embd;
  const inner = innerSize(config);
  const specs: ParameterSpec[] = [
    { name: "wte.weight", shape: [config.vocab_size, d] },
    { name: "wpe.weight", shape: [config.n_positions, d] },
  ];
  for (let i = 0; i < config.n_layer; i++) {
    const h = `h.${i}`;
    specs.push(
      { name: `${h}.ln_1.weight`, shape: [d] },
      { name: `${h}.ln_1.bias`, shape: [d] },
      { name: `${h}.attn.c_attn.weight`, shape: [d, 3 * d] },
      { name: `${h}.attn.c_attn.bias`, shape: [3 * d] },
      { name: `${h}.attn.c_proj.weight`, shape: [d, d] },
      { name: `${h}.attn.c_proj.bias`, shape: [d] },
      { name: `${h}.ln_2.weight`, shape: [d] },
      { name: `${h}.ln_2.bias`, shape: [d] },
      { name: `${h}.mlp.c_fc.weight`, shape: [d, inner] },
      { name: `${h}.mlp.c_fc.bias`, shape: [inner] },
      { name: `${h}.mlp.c_proj.weight`, shape: [inner, d] },
      { name: `${h}.mlp.c_proj.bias`, shape: [d] },
    );
  }
  specs.push({ name: "ln_f.weight", shape: [d] }, { name: "ln_f.bias", shape: [d] });
  return specs;
}

/**
 * Total number of parameters (the output head is tied to wte and not counted twice): the sizes of
 * `parameterSpecs` added up, computed without listing them, so any config is cheap to count.
 */
export function countParameters(config: Gpt2Config): number {
  const d = config.n_embd;
  const inner = innerSize(config);
  const block = 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * inner + inner) + (inner * d + d);
  return config.vocab_size * d + config.n_positions * d + config.n_layer * block + 2 * d;
}

/** A checkpoint's GPT-2 parameters, read one at a time by Hugging Face name. */
export interface Checkpoint {
  /** Reads a parameter as float32 in Hugging Face layout; checks its shape. */
  read(spec: ParameterSpec): Float32Array;
  close(): void;
  /** The files it is made of: the one file, or the index and then every shard (sorted). */
  files: string[];
}

/** The index Hugging Face writes beside a checkpoint saved in several files. */
export const SHARD_INDEX_FILE = "model.safetensors.index.json";

/**
 * Opens a model.safetensors, or a sharded checkpoint's model.safetensors.index.json, and checks that
 * it holds every parameter `config` needs, with the right shapes, before anything is read.
 */
export function openCheckpoint(path: string, config: Gpt2Config): Checkpoint {
  // Which open file holds a tensor: the only one, or the shard the index names.
  let fileOf: (name: string) => SafetensorsFile | undefined;
  let allTensorNames: () => string[];
  let closeAll: () => void;
  let files: string[];
  if (path.endsWith(".index.json")) {
    const shards = openShards(path);
    fileOf = (name) => shards.byName.get(name);
    allTensorNames = () => [...shards.byName.keys()];
    closeAll = () => shards.byPath.forEach((file) => file.close());
    files = [path, ...[...shards.byPath.keys()].sort()];
  } else {
    const file = SafetensorsFile.open(path);
    fileOf = () => file;
    allTensorNames = () => [...file.tensors.keys()];
    closeAll = () => file.close();
    files = [path];
  }
  try {
    const prefix = fileOf("transformer.wte.weight")?.tensors.has("transformer.wte.weight") ? "transformer." : "";
    // The sizes in config.json are checked against what the file holds before they size anything.
    checkBlockCount(path, config, allTensorNames(), prefix);
    const missing: string[] = [];
    for (const spec of parameterSpecs(config)) {
      const info = fileOf(prefix + spec.name)?.tensors.get(prefix + spec.name);
      if (!info) {
        missing.push(spec.name);
      } else if (info.shape.join(",") !== spec.shape.join(",")) {
        throw new RangeError(
          `${path}: tensor \`${prefix + spec.name}\` has shape [${info.shape}] but config.json implies [${spec.shape}]; the config and weights belong to different models`,
        );
      }
    }
    if (missing.length > 0) {
      const shown = missing.slice(0, 5).join(", ") + (missing.length > 5 ? `, … (${missing.length} in all)` : "");
      throw new RangeError(`${path}: missing GPT-2 tensors ${shown}; is this a GPT-2 checkpoint (GPT2LMHeadModel)?`);
    }
    return {
      read: (spec) => finite(fileOf(prefix + spec.name)!.read(prefix + spec.name), path, prefix + spec.name),
      close: closeAll,
      files,
    };
  } catch (error) {
    closeAll();
    throw error;
  }
}

/** `values`, checked to hold no NaN or infinity: a damaged checkpoint is named before it is converted. */
function finite(values: Float32Array, path: string, name: string): Float32Array {
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x - x !== 0) {
      throw new RangeError(`${path}: tensor \`${name}\` holds ${x !== x ? "NaN" : x} at index ${i}; the checkpoint is damaged: download or re-create it`);
    }
  }
  return values;
}

/** Throws unless the checkpoint holds exactly `config.n_layer` blocks (h.0 … h.{n_layer - 1}). */
function checkBlockCount(path: string, config: Gpt2Config, names: string[], prefix: string): void {
  const blocks = new Set<number>();
  for (const name of names) {
    const match = /^h\.(\d+)\./.exec(name.slice(prefix.length));
    if (name.startsWith(prefix) && match) blocks.add(Number(match[1]));
  }
  const count = blocks.size === 0 ? 0 : Math.max(...blocks) + 1;
  if (count !== config.n_layer) {
    const held = count === 0 ? "no transformer blocks" : `${count} block${count === 1 ? "" : "s"} (h.0 … h.${count - 1})`;
    throw new RangeError(`config.json says n_layer is ${config.n_layer}, but ${path} holds ${held}; the config and weights belong to different models`);
  }
}

/** Opens every shard named by an index's `weight_map`: tensor name → its open file, and shard path → file. */
function openShards(indexPath: string): { byName: Map<string, SafetensorsFile>; byPath: Map<string, SafetensorsFile> } {
  let weightMap: Record<string, string>;
  try {
    weightMap = JSON.parse(fs.readFileSync(indexPath, "utf8")).weight_map;
  } catch (error) {
    throw new RangeError(`${indexPath}: not a readable safetensors index (${(error as Error).message})`);
  }
  if (typeof weightMap !== "object" || weightMap === null) throw new RangeError(`${indexPath}: has no \`weight_map\``);
  const byPath = new Map<string, SafetensorsFile>();
  const byName = new Map<string, SafetensorsFile>();
  try {
    for (const [name, file] of Object.entries(weightMap)) {
      const shardPath = nodePath.join(nodePath.dirname(indexPath), nodePath.basename(file));
      if (!byPath.has(shardPath)) {
        if (!fs.existsSync(shardPath)) {
          throw new RangeError(`${indexPath} names the shard ${file}, which is missing; download or copy the whole checkpoint`);
        }
        byPath.set(shardPath, SafetensorsFile.open(shardPath));
      }
      byName.set(name, byPath.get(shardPath)!);
    }
  } catch (error) {
    byPath.forEach((file) => file.close());
    throw error;
  }
  return { byName, byPath };
}
