// The module tree of a GPT-2, printed the way PyTorch prints transformers' GPT2LMHeadModel
// (`print(model)` in the course), so learners can compare the two line by line. Built from the
// config alone: sizes are exact for any GPT-2 shape. Dropout rates are GPT-2's training values;
// at inference dropout does nothing, and gpt2-lab's graph leaves it out.
import { type Gpt2Config, innerSize } from "../config";

/** `print(model)` for a GPT-2 of this config. */
export function describeModel(config: Gpt2Config): string {
  const { n_layer, n_embd: d, n_positions, vocab_size, layer_norm_epsilon: eps } = config;
  const inner = innerSize(config);
  const layerNorm = `LayerNorm((${d},), eps=${formatEps(eps)}, elementwise_affine=True)`;
  const blocks = n_layer === 1 ? "(0): GPT2Block(" : `(0-${n_layer - 1}): ${n_layer} x GPT2Block(`;
  return [
    "GPT2LMHeadModel(",
    "  (transformer): GPT2Model(",
    `    (wte): Embedding(${vocab_size}, ${d})`,
    `    (wpe): Embedding(${n_positions}, ${d})`,
    "    (drop): Dropout(p=0.1, inplace=False)",
    "    (h): ModuleList(",
    `      ${blocks}`,
    `        (ln_1): ${layerNorm}`,
    "        (attn): GPT2Attention(",
    `          (c_attn): Conv1D(nf=${3 * d}, nx=${d})`,
    `          (c_proj): Conv1D(nf=${d}, nx=${d})`,
    "          (attn_dropout): Dropout(p=0.1, inplace=False)",
    "          (resid_dropout): Dropout(p=0.1, inplace=False)",
    "        )",
    `        (ln_2): ${layerNorm}`,
    "        (mlp): GPT2MLP(",
    `          (c_fc): Conv1D(nf=${inner}, nx=${d})`,
    `          (c_proj): Conv1D(nf=${d}, nx=${inner})`,
    "          (act): NewGELUActivation()",
    "          (dropout): Dropout(p=0.1, inplace=False)",
    "        )",
    "      )",
    "    )",
    `    (ln_f): ${layerNorm}`,
    "  )",
    `  (lm_head): Linear(in_features=${d}, out_features=${vocab_size}, bias=False)`,
    ")",
  ].join("\n");
}

/** Python prints 1e-5 as `1e-05`. */
function formatEps(eps: number): string {
  return eps.toExponential().replace(/e([+-])(\d)$/, "e$10$2").replace(/^(\d)\.?0*e/, "$1e");
}
