// `gpt2-lab <command>`: dispatches to one file per command, prints help, and turns errors
// into a one-line message and a non-zero exit code instead of a stack trace.
import { type Command, UsageError } from "./command";
import { attributeCommand } from "./attribute";
import { downloadCommand } from "./download";
import { generateCommand } from "./generate";
import { inspectCommand } from "./inspect";
import { makeModelCommand } from "./make-model";
import { modelsCommand } from "./models";
import { tokenizeCommand } from "./tokenize";

const commands: Command[] = [
  tokenizeCommand,
  generateCommand,
  inspectCommand,
  attributeCommand,
  makeModelCommand,
  downloadCommand,
  modelsCommand,
];

const overview = () =>
  [
    "Usage: gpt2-lab <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`),
    "",
    "Run `gpt2-lab <command> --help` for a command's options.",
  ].join("\n");

/** Runs the CLI and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(overview() + "\n");
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`gpt2-lab: unknown command \`${name}\`; expected one of ${commands.map((c) => c.name).join(", ")}\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(command.usage + "\n");
    return 0;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`gpt2-lab ${name}: ${message}\n`);
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`\n${command.usage}\n`);
      return 2;
    }
    return 1;
  }
}
