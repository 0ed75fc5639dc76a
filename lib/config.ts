// GPT-2's fixed facts and the model configuration (Hugging Face's config.json for GPT-2).
// Every other file reads vocabulary size, context length and the end-of-text id from here;
// a loaded model's config is checked against them once, in `parseConfig`.
// Follows transformers' GPT2Config; fields GPT-2 checkpoints never change (dropout, init) are left out.

/** Size of GPT-2's byte-level BPE vocabulary. */
export const GPT2_VOCAB_SIZE = 50257;
/** Longest sequence the released GPT-2 models attend over. */
export const GPT2_CONTEXT = 1024;
/** Id of `<|endoftext|>`: the first token of an unprompted sample, and the pad id. */
export const END_OF_TEXT_ID = 50256;
export const END_OF_TEXT = "<|endoftext|>";

/** The shape of a GPT-2 model, with Hugging Face's field names. */
export interface Gpt2Config {
  /** Number of transformer blocks. */
  n_layer: number;
  /** Attention heads per block; must divide `n_embd`. */
  n_head: number;
  /** Width of the residual stream. */
  n_embd: number;
  /** Longest sequence (rows of the position embedding). */
  n_positions: number;
  /** Rows of the token embedding: 50257 for every GPT-2 checkpoint. */
  vocab_size: number;
  /** LayerNorm epsilon, 1e-5 in GPT-2. */
  layer_norm_epsilon: number;
  /** Hidden width of the MLP; `null` means 4 × n_embd. */
  n_inner: number | null;
  /** MLP activation: GPT-2 uses the tanh approximation of GELU. */
  activation_function: "gelu_new";
  /** End-of-text token id (50256). */
  eos_token_id: number;
  bos_token_id: number;
  model_type: "gpt2";
  architectures: string[];
}

/** The model shapes `make-model` can build: OpenAI's four GPT-2 sizes and a tiny one for tests. */
export const SHAPES = {
  tiny: { n_layer: 2, n_head: 4, n_embd: 64, n_positions: 128 },
  gpt2: { n_layer: 12, n_head: 12, n_embd: 768, n_positions: 1024 },
  "gpt2-medium": { n_layer: 24, n_head: 16, n_embd: 1024, n_positions: 1024 },
  "gpt2-large": { n_layer: 36, n_head: 20, n_embd: 1280, n_positions: 1024 },
  "gpt2-xl": { n_layer: 48, n_head: 25, n_embd: 1600, n_positions: 1024 },
} as const;
export type ShapeName = keyof typeof SHAPES;

/** A full config for one of the named shapes. */
export function configForShape(shape: ShapeName): Gpt2Config {
  const dims = SHAPES[shape];
  if (!dims) {
    throw new RangeError(`Unknown shape \`${shape}\`; expected one of ${Object.keys(SHAPES).join(", ")}`);
  }
  return {
    ...dims,
    vocab_size: GPT2_VOCAB_SIZE,
    layer_norm_epsilon: 1e-5,
    n_inner: null,
    activation_function: "gelu_new",
    eos_token_id: END_OF_TEXT_ID,
    bos_token_id: END_OF_TEXT_ID,
    model_type: "gpt2",
    architectures: ["GPT2LMHeadModel"],
  };
}

/** Width of the MLP's hidden layer. */
export function innerSize(config: Gpt2Config): number {
  return config.n_inner ?? 4 * config.n_embd;
}

/**
 * Validates a parsed config.json and fills GPT-2's defaults for missing optional fields.
 * `source` names the file in error messages.
 */
export function parseConfig(json: unknown, source: string): Gpt2Config {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new TypeError(`${source}: expected a JSON object, got ${Array.isArray(json) ? "an array" : typeof json}`);
  }
  const raw = json as Record<string, unknown>;
  if (raw.model_type !== undefined && raw.model_type !== "gpt2") {
    throw new RangeError(`${source}: model_type is \`${String(raw.model_type)}\`; gpt2-lab runs GPT-2 models only (model_type "gpt2")`);
  }
  const positiveInt = (key: string, fallback?: number): number => {
    const value = raw[key] ?? fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
      throw new RangeError(`${source}: expected \`${key}\` to be a positive integer, got \`${String(value)}\` (${typeof value})`);
    }
    return value;
  };
  const n_layer = positiveInt("n_layer");
  const n_head = positiveInt("n_head");
  const n_embd = positiveInt("n_embd");
  const n_positions = positiveInt("n_positions", raw.n_ctx as number | undefined);
  const vocab_size = positiveInt("vocab_size", GPT2_VOCAB_SIZE);
  if (n_embd % n_head !== 0) {
    throw new RangeError(`${source}: n_embd (${n_embd}) must be divisible by n_head (${n_head}) so each head gets n_embd / n_head dimensions`);
  }
  if (vocab_size !== GPT2_VOCAB_SIZE) {
    throw new RangeError(`${source}: vocab_size is ${vocab_size}; GPT-2's tokenizer has ${GPT2_VOCAB_SIZE} tokens`);
  }
  const activation = raw.activation_function ?? "gelu_new";
  if (activation !== "gelu_new") {
    throw new RangeError(`${source}: activation_function \`${String(activation)}\` is not supported; GPT-2 uses "gelu_new"`);
  }
  // Variants of GPT-2's attention that transformers supports but GPT-2 checkpoints never use.
  const unsupported: [string, unknown][] = [
    ["scale_attn_weights", false],
    ["scale_attn_by_inverse_layer_idx", true],
    ["add_cross_attention", true],
    ["tie_word_embeddings", false],
  ];
  for (const [key, value] of unsupported) {
    if (raw[key] === value) {
      throw new RangeError(`${source}: \`${key}: ${value}\` is not supported; gpt2-lab runs GPT-2 as released (${key}: ${!value})`);
    }
  }
  const eps = raw.layer_norm_epsilon ?? 1e-5;
  // JSON's 1e999 parses as Infinity: every LayerNorm would then output its bias alone.
  if (typeof eps !== "number" || !Number.isFinite(eps) || !(eps > 0)) {
    throw new RangeError(`${source}: expected \`layer_norm_epsilon\` to be a finite positive number, got \`${String(eps)}\``);
  }
  const n_inner = raw.n_inner === undefined || raw.n_inner === null ? null : positiveInt("n_inner");
  return {
    n_layer,
    n_head,
    n_embd,
    n_positions,
    vocab_size,
    layer_norm_epsilon: eps,
    n_inner,
    activation_function: "gelu_new",
    eos_token_id: typeof raw.eos_token_id === "number" ? raw.eos_token_id : END_OF_TEXT_ID,
    bos_token_id: typeof raw.bos_token_id === "number" ? raw.bos_token_id : END_OF_TEXT_ID,
    model_type: "gpt2",
    architectures: Array.isArray(raw.architectures) ? (raw.architectures as string[]) : ["GPT2LMHeadModel"],
  };
}

/**
 * GPT-2's activation, GELU in its tanh form (`gelu_new` in transformers; Hendrycks and Gimpel, 2016):
 * 0.5·x·(1 + tanh(scale·(x + cubic·x³))). The ONNX graph builds its MLP from these constants.
 */
export const GELU = { cubic: 0.044715, scale: Math.sqrt(2 / Math.PI) } as const;

/** GELU (tanh form) of one number, as GPT-2's MLP applies it. */
export function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(GELU.scale * (x + GELU.cubic * x ** 3)));
}
