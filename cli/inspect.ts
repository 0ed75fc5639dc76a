// `gpt2-lab inspect`: what happens inside the model on one prompt (`model.inspect`): the logit lens
// as a table of each layer's top token per position, or with --json everything: tokens, ids, every
// head's attention weights, the lens and each block's writes.
import { GPT2_VOCAB_SIZE } from "../lib/config";
import type { Inspection } from "../lib/inspect/inspect";
import { loadModelOrDefault } from "../lib/model/load";
import { tokenLabel } from "../lib/plots/figure";
import { type Command, UsageError } from "./command";
import { integerFlag, parsePromptCommand, PROMPT_COMMAND_USAGE } from "./flags";
import { terminalProgress } from "./progress";
import { ablate } from "../lib/interpret/ablate";

/** A refused head (out of range, malformed) as a usage error naming the flag and its value. */
async function asUsage<T>(heads: string[], task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (error) {
    if (!(error instanceof RangeError || error instanceof TypeError)) throw error;
    const message = (error as Error).message
      .replace(/`heads\[(\d+)\]\.(layer|head)`/g, (_, i: string, part: string) => `the ${part} of --ablate-head ${heads[Number(i)]}`)
      .replace(/`heads\[(\d+)\]`/g, (_, i: string) => `--ablate-head`);
    throw new UsageError(message);
  }
}

export const inspectCommand: Command = {
  name: "inspect",
  summary: "Look inside the model on a prompt: attention per head and the logit lens",
  usage: [
    "Usage: gpt2-lab inspect [--model <id|dir>] (--prompt <text> | --prompt-file <path>) [options]",
    "",
    "Prints the logit lens: for each layer (0 = the embeddings) the likeliest next token at every",
    "position, read through the final layer norm and the output head. With --json, one object:",
    "{tokens, ids, attentions[layer][head][query][key], lens[layer][position] {id, text, prob, top,",
    "target}, writes {attention, mlp}[layer][position], next}.",
    "",
    "Options:",
    "  --model <id|dir>   Hub id, model folder, or `shakespeare` (default gpt2, else the built-in model)",
    "  --prompt <text>    the prompt (empty means <|endoftext|>)",
    "  --prompt-file <path>",
    "                     the prompt from a file, as it is (- reads standard input); for long prompts",
    "  --top N            tokens listed per layer and position, 1 to 50257 (default 5)",
    "  --target <token>   follow this token's probability and rank (default: the next prompt token)",
    "  --ablate-head L.H  switch off head H of layer L (from 0; repeatable) and print the new next",
    "                     token and its probability; with --json {ablated, next, before, logits}",
    ...PROMPT_COMMAND_USAGE,
  ].join("\n"),
  async run(argv) {
    const { values, device, prompt } = parsePromptCommand(argv, { top: { type: "string" }, target: { type: "string" }, "ablate-head": { type: "string", multiple: true } });
    const top = integerFlag("--top", values.top as string | undefined, 5);
    if (top < 1 || top > GPT2_VOCAB_SIZE) throw new UsageError(`--top must be an integer in [1, ${GPT2_VOCAB_SIZE}], got \`${top}\``);
    const { model, note } = await loadModelOrDefault(values.model, { device, onProgress: terminalProgress() });
    if (note) process.stderr.write(note + "\n");
    try {
      const heads = values["ablate-head"] as string[] | undefined;
      if (heads?.length) {
        const result = await asUsage(heads, () => ablate(model, prompt, { heads }));
        const { next, before } = result;
        if (values.json) {
          process.stdout.write(JSON.stringify({ ablated: heads, next, before: before.next, logits: Array.from(result.logits) }) + "\n");
        } else {
          process.stdout.write(
            `With head${heads.length > 1 ? "s" : ""} ${heads.join(", ")} switched off, the next token is ${JSON.stringify(next.text)} (id ${next.id}, probability ${next.prob.toFixed(3)}); ` +
              `without ablation it is ${JSON.stringify(before.next.text)} (probability ${before.next.prob.toFixed(3)}).\n`,
          );
        }
        return;
      }
      const inspection = await model.inspect(prompt, { top, target: values.target as string | undefined });
      process.stdout.write(values.json ? JSON.stringify(toJson(inspection)) + "\n" : lensTable(inspection) + "\n");
    } finally {
      await model.dispose();
    }
  },
};

/** Plain arrays in place of typed ones, so that JSON.stringify writes lists. */
function toJson({ tokens, ids, attentions, lens, writes, next }: Inspection) {
  return { tokens, ids, attentions: attentions.map((heads) => heads.map((rows) => rows.map((row) => Array.from(row)))), lens, writes, next };
}

/** The lens as text: one row per layer, one column per position, each cell the top token and its probability. */
function lensTable({ tokens, lens, next }: Inspection): string {
  const cell = (text: string) => (text.length > 14 ? text.slice(0, 13) + "…" : text).padEnd(14);
  const header = "layer  " + tokens.map((t) => cell(tokenLabel(t))).join(" ");
  const rows = lens.map((layer, l) => String(l).padStart(5) + "  " + layer.map((e) => cell(`${tokenLabel(e.text)} ${e.prob.toFixed(2)}`)).join(" "));
  const last = lens.length - 1;
  return [
    "The likeliest next token at each position, read at each layer (0 = the embeddings):",
    header,
    ...rows,
    `Next token: ${JSON.stringify(next.text)} (id ${next.id}, probability ${next.prob.toFixed(3)}); layer ${last} is the model's output.`,
  ].join("\n");
}
