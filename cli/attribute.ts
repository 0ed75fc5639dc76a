// `gpt2-lab attribute`: direct logit attribution on one prompt (lib/interpret/attribute.ts): the
// next token's logit (or its difference from a second token's) split into what the embeddings,
// every head, every attention bias, every MLP and ln_f's bias contributed.
import { attribute, type Attribution } from "../lib/interpret/attribute";
import { loadModelOrDefault } from "../lib/model/load";
import { logitLabel } from "../lib/plots/why";
import { type Command, UsageError } from "./command";
import { parsePromptCommand, PROMPT_COMMAND_USAGE } from "./flags";
import { terminalProgress } from "./progress";

export const attributeCommand: Command = {
  name: "attribute",
  summary: "Split the next token's logit into what each head and MLP contributed",
  usage: [
    "Usage: gpt2-lab attribute [--model <id|dir>] (--prompt <text> | --prompt-file <path>) [options]",
    "",
    "Prints the parts of the logit, largest first. With --json, one object:",
    "{tokens, target, against?, logit, parts: {embeddings, heads[layer][head], attentionBias[layer],",
    "mlps[layer], finalBias}}; the parts add up to the logit.",
    "",
    "Options:",
    "  --model <id|dir>   Hub id, model folder, or `shakespeare` (default gpt2, else the built-in model)",
    "  --prompt <text>    the prompt",
    "  --prompt-file <path>",
    "                     the prompt from a file, as it is (- reads standard input)",
    "  --target <token>   the token whose logit is split, one token (default: the model's next token)",
    "  --against <token>  split logit(target) − logit(against) instead",
    ...PROMPT_COMMAND_USAGE,
  ].join("\n"),
  async run(argv) {
    const { values, device, prompt } = parsePromptCommand(argv, { target: { type: "string" }, against: { type: "string" } });
    const { model, note } = await loadModelOrDefault(values.model, { device, onProgress: terminalProgress() });
    if (note) process.stderr.write(note + "\n");
    try {
      let result: Attribution;
      try {
        result = await attribute(model, prompt, { target: values.target as string | undefined, against: values.against as string | undefined });
      } catch (error) {
        if (error instanceof RangeError || error instanceof TypeError) throw new UsageError((error as Error).message.replace(/`(target|against)`/g, "--$1"));
        throw error;
      }
      const { tokens, target, against, logit, parts } = result;
      process.stdout.write(values.json ? JSON.stringify({ tokens, target, ...(against ? { against } : {}), logit, parts }) + "\n" : table(result) + "\n");
    } finally {
      await model.dispose();
    }
  },
};

/** The ten largest parts by size, then the total. */
function table({ target, against, logit, parts }: Attribution): string {
  const rows: [string, number][] = [
    ["embeddings", parts.embeddings],
    ...parts.heads.flatMap((heads, l) => heads.map((x, h): [string, number] => [`head ${l}.${h}`, x])),
    ...parts.attentionBias.map((x, l): [string, number] => [`attention bias ${l}`, x]),
    ...parts.mlps.map((x, l): [string, number] => [`MLP ${l}`, x]),
    ["ln_f bias", parts.finalBias],
  ];
  rows.sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
  return [`${logitLabel(target, against)} = ${logit.toFixed(3)}; the largest parts:`, ...rows.slice(0, 10).map(([name, x]) => `  ${name.padEnd(18)} ${x >= 0 ? "+" : ""}${x.toFixed(3)}`), `  (${rows.length} parts in all; --json lists every one)`].join("\n");
}
