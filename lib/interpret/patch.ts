// Activation patching (as TransformerLens's `patching` utilities): run a corrupted prompt, but with
// one piece of a clean prompt's run put back, and measure how much of the clean answer returns.
// The pieces are the residual stream entering each block at each position, and each head's output
// at every position. The metric is the logit difference between two tokens after the last
// position: the clean run's answer against the corrupted run's. All the runs of one grid go
// through the intervention pass in batches.
import { expectBoolean, expectOptions } from "../checks";
import { onePromptIds, targetId } from "../inspect/inspect";
import { interruptible } from "../interrupt";
import type { Model } from "../model/model";
import { argmax } from "../sampling/distribution";
import { type Experiment, runExperiments, runFull } from "./intervene";

/** Options of {@link patchActivations}. */
export interface PatchOptions {
  /** The token the clean prompt should lead to. @default the clean run's next token */
  target?: number | string;
  /** The token it is measured against. @default the corrupted run's next token */
  against?: number | string;
  /** Also patch each head's output (every position), one head at a time. @default false */
  heads?: boolean;
}

/** What patching found; every value is logit(target) − logit(against) after the last position. */
export interface Patching {
  /** The corrupted prompt's tokens (the x axis of the grid). */
  tokens: string[];
  cleanTokens: string[];
  target: { id: number; text: string };
  against: { id: number; text: string };
  /** The metric on the clean and on the corrupted run, unpatched. */
  clean: number;
  corrupted: number;
  /** `residual[layer][position]`: the corrupted run with the clean stream entering block `layer` at `position`. */
  residual: number[][];
  /** `heads[layer][head]`: the corrupted run with the clean output of that head; only with `heads: true`. */
  heads?: number[][];
  /** Runs of the model this took. */
  passes: number;
}

/** Patches the clean run into the corrupted one, layer by layer and position by position. The prompts must be the same number of tokens. */
export async function patchActivations(model: Model, clean: string | readonly number[], corrupted: string | readonly number[], options: PatchOptions = {}): Promise<Patching> {
  expectOptions(options, "options", ["target", "against", "heads"]);
  const { heads: perHead = false } = options;
  expectBoolean(perHead, "heads");
  const cleanIds = onePromptIds(model, clean);
  const corruptedIds = onePromptIds(model, corrupted);
  if (cleanIds.length !== corruptedIds.length) {
    throw new RangeError(
      `Expected the clean and corrupted prompts to be the same number of tokens, got ${cleanIds.length} and ${corruptedIds.length}; ` +
        "patching swaps positions one for one, so change the corrupted prompt word for word (check with `model.tokenizer.encode`)",
    );
  }
  let target = options.target === undefined ? undefined : targetId(model, options.target);
  let against = options.against === undefined ? undefined : targetId(model, options.against, "against");
  const { n_layer: layers, n_head } = model.config;
  const seq = cleanIds.length;
  return interruptible("patching", async (signal) => {
    // The clean run gives both the reference values and the clean logits.
    const { reference, logits: cleanLogits } = await runFull(model, cleanIds, [0]);
    const [corruptedLogits] = await runExperiments(model, corruptedIds, [{}], null);
    target ??= argmax(cleanLogits);
    against ??= argmax(corruptedLogits);
    if (target === against) {
      throw new RangeError(`The clean and corrupted runs both predict ${JSON.stringify(model.tokenizer.tokenText(target))}, so the default metric is 0 everywhere; name \`against\` (or \`target\`)`);
    }
    const metric = (logits: Float32Array) => logits[target!] - logits[against!];
    const experiments: Experiment[] = [];
    for (let layer = 0; layer < layers; layer++) for (let position = 0; position < seq; position++) experiments.push({ residualPatch: [{ layer, position }] });
    if (perHead) for (let layer = 0; layer < layers; layer++) for (let head = 0; head < n_head; head++) experiments.push({ headPatch: [{ layer, head }] });
    const results = (await runExperiments(model, corruptedIds, experiments, reference, signal)).map(metric);
    const grid = (offset: number, rows: number, columns: number) => Array.from({ length: rows }, (_, r) => results.slice(offset + r * columns, offset + (r + 1) * columns));
    const text = (id: number) => ({ id, text: model.tokenizer.tokenText(id) });
    return {
      tokens: corruptedIds.map((id) => model.tokenizer.tokenText(id)),
      cleanTokens: cleanIds.map((id) => model.tokenizer.tokenText(id)),
      target: text(target),
      against: text(against),
      clean: metric(cleanLogits),
      corrupted: metric(corruptedLogits),
      residual: grid(0, layers, seq),
      ...(perHead ? { heads: grid(layers * seq, layers, n_head) } : {}),
      passes: 2 + experiments.length,
    };
  });
}
