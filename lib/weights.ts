// GPT-2's parameters by Hugging Face name and layout, and reading them from a checkpoint.
// Layout follows transformers' GPT2LMHeadModel: Conv1D weights are stored [in, out] (the transpose of
// nn.Linear), c_attn packs query, key and value side by side, and the output head reuses `wte`.
// Real checkpoints differ in small ways that `openCheckpoint` hides: a `transformer.` prefix,
// an explicit `lm_head.weight` (a copy of wte), and `h.{i}.attn.bias` causal-mask buffers (ignored).
import { type Gpt2Config, innerSize } from "./config";
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

/** Total number of parameters (the output head is tied to wte and not counted twice). */
export function countParameters(config: Gpt2Config): number {
  return parameterSpecs(config).reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** A checkpoint's GPT-2 parameters, read one at a time by Hugging Face name. */
export interface Checkpoint {
  /** Reads a parameter as float32 in Hugging Face layout; checks its shape. */
  read(spec: ParameterSpec): Float32Array;
  close(): void;
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
  let closeAll: () => void;
  if (path.endsWith(".index.json")) {
    const shards = openShards(path);
    fileOf = (name) => shards.get(name);
    closeAll = () => new Set(shards.values()).forEach((file) => file.close());
  } else {
    const file = SafetensorsFile.open(path);
    fileOf = () => file;
    closeAll = () => file.close();
  }
  try {
    const prefix = fileOf("transformer.wte.weight")?.tensors.has("transformer.wte.weight") ? "transformer." : "";
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
      read: (spec) => fileOf(prefix + spec.name)!.read(prefix + spec.name),
      close: closeAll,
    };
  } catch (error) {
    closeAll();
    throw error;
  }
}

/** Opens every shard named by an index's `weight_map`; returns tensor name → its open file. */
function openShards(indexPath: string): Map<string, SafetensorsFile> {
  let weightMap: Record<string, string>;
  try {
    weightMap = JSON.parse(fs.readFileSync(indexPath, "utf8")).weight_map;
  } catch (error) {
    throw new RangeError(`${indexPath}: not a readable safetensors index (${(error as Error).message})`);
  }
  if (typeof weightMap !== "object" || weightMap === null) throw new RangeError(`${indexPath}: has no \`weight_map\``);
  const byFile = new Map<string, SafetensorsFile>();
  const byName = new Map<string, SafetensorsFile>();
  try {
    for (const [name, file] of Object.entries(weightMap)) {
      const shardPath = nodePath.join(nodePath.dirname(indexPath), nodePath.basename(file));
      if (!fs.existsSync(shardPath)) {
        throw new RangeError(`${indexPath} names the shard ${file}, which is missing; download or copy the whole checkpoint`);
      }
      if (!byFile.has(file)) byFile.set(file, SafetensorsFile.open(shardPath));
      byName.set(name, byFile.get(file)!);
    }
  } catch (error) {
    byFile.forEach((file) => file.close());
    throw error;
  }
  return byName;
}

/** The files a checkpoint is made of: itself, or for a shard index, the index and every shard. */
export function checkpointFiles(path: string): string[] {
  if (!path.endsWith(".index.json")) return [path];
  const weightMap: Record<string, string> = JSON.parse(fs.readFileSync(path, "utf8")).weight_map ?? {};
  const shards = [...new Set(Object.values(weightMap))].sort();
  return [path, ...shards.map((file) => nodePath.join(nodePath.dirname(path), nodePath.basename(file)))];
}
