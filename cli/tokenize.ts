// `gpt2-lab tokenize`: the token ids and per-token text of a string, as JSON.
import { parseArgs } from "node:util";
import { findModelFiles } from "../lib/model/load";
import { gpt2Tokenizer, loadTokenizer } from "../lib/tokenizer/tokenizer";
import { type Command, UsageError } from "./command";

export const tokenizeCommand: Command = {
  name: "tokenize",
  summary: "Print the token ids and tokens of a text as JSON",
  usage: [
    "Usage: gpt2-lab tokenize [--model <dir>] <text>",
    "",
    "Prints {\"ids\": number[], \"tokens\": string[]}: each token is the decoded text of one id.",
    "",
    "Options:",
    "  --model <dir>  a model folder whose tokenizer.json to use (default: GPT-2's tokenizer, built in)",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, options: { model: { type: "string" } }, allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError(`expected one text argument, got ${positionals.length}`);
    const tokenizer = values.model ? loadTokenizer((await findModelFiles(values.model, {})).dir) : gpt2Tokenizer();
    const { ids, tokens } = tokenizer.encode(positionals[0]);
    process.stdout.write(JSON.stringify({ ids, tokens }) + "\n");
  },
};
