// What every `gpt2-lab <command>` provides. Each command lives in its own file and parses its
// own flags with node:util's parseArgs; main.ts only dispatches and turns errors into exit codes.

/** One CLI command. */
export interface Command {
  /** The word after `gpt2-lab`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The full help text shown by `gpt2-lab <command> --help`. */
  usage: string;
  /** Runs the command with the arguments after its name; writes results to stdout. */
  run(argv: string[]): Promise<void>;
}

/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
