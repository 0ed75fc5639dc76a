// GPT-2's parameters by Hugging Face name and layout, and reading them from a checkpoint.
// Layout follows transformers' GPT2LMHeadModel: Conv1D weights are stored [in, out] (the transpose of
// nn.Linear), c_attn packs query, key and value side by side, and the output head reuses `wte`.
// Real checkpoints differ in small ways that `openCheckpoint` hides: a `transformer.` prefix,
// an explicit `lm_head.weight` (a copy of wte), and `h.{i}.attn.bias` causal-mask buffers (ignored).
import { type Gpt2Config, innerSize } from "./config";
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

/**
 * Opens a model.safetensors and checks that it holds every parameter `config` needs, with the
 * right shapes, before anything is read.
 */
export function openCheckpoint(path: string, config: Gpt2Config): Checkpoint {
  const file = SafetensorsFile.open(path);
  try {
    const prefix = file.tensors.has("transformer.wte.weight") ? "transformer." : "";
    const missing: string[] = [];
    for (const spec of parameterSpecs(config)) {
      const info = file.tensors.get(prefix + spec.name);
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
      read: (spec) => file.read(prefix + spec.name),
      close: () => file.close(),
    };
  } catch (error) {
    file.close();
    throw error;
  }
}
