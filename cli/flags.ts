// Parsing flag values (numbers, one of a list), with errors that name the flag and the value.
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { DEVICES } from "../lib/model/device";
import { UsageError } from "./command";

// onnxruntime reads the process's command line (/proc/self/cmdline) while it creates a session, and
// what it runs over it recurses once per character: a command line of about 25 kB or more
// overflows the stack and the process dies with SIGSEGV, before any JavaScript can catch it. So a
// prompt that long is refused on the command line, and taken from a file or standard input instead.
const MAX_PROMPT_FLAG_BYTES = 16_384;

/**
 * The prompt from `--prompt TEXT` or `--prompt-file PATH` (`-`: standard input), the file's text as
 * it is; empty when neither is given.
 */
export function promptFlag(prompt: string | undefined, promptFile: string | undefined): string {
  if (prompt !== undefined && promptFile !== undefined) throw new UsageError("give --prompt or --prompt-file, not both");
  if (promptFile !== undefined) {
    try {
      return fs.readFileSync(promptFile === "-" ? 0 : promptFile, "utf8");
    } catch (error) {
      throw new UsageError(`--prompt-file: cannot read ${promptFile === "-" ? "standard input" : promptFile} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  const bytes = Buffer.byteLength(prompt ?? "");
  if (bytes > MAX_PROMPT_FLAG_BYTES) {
    throw new UsageError(
      `--prompt is ${bytes} bytes, over the ${MAX_PROMPT_FLAG_BYTES} this command takes: onnxruntime crashes on a command line of about 25 kB. ` +
        "Put the prompt in a file and pass --prompt-file PATH, or pipe it in with --prompt-file -",
    );
  }
  return prompt ?? "";
}

/** An integer flag (any sign), or `fallback` when absent. */
export function integerFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n)) throw new UsageError(`${name} must be an integer, got \`${value}\``);
  return n;
}

/** A number flag, or `fallback` when absent. */
export function numberFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || Number.isNaN(n)) throw new UsageError(`${name} must be a number, got \`${value}\``);
  return n;
}

/** A flag that must be one of `allowed`. */
export function oneOfFlag<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new UsageError(`${name} must be one of ${allowed.join(", ")}, got \`${value ?? ""}\``);
  return value as T;
}

/** An optional integer flag: undefined when absent (the library's default applies), else checked as `integerFlag`. */
export function optionalIntegerFlag(name: string, value: string | undefined): number | undefined {
  return value === undefined ? undefined : integerFlag(name, value, 0);
}

/** An optional number flag, likewise. */
export function optionalNumberFlag(name: string, value: string | undefined): number | undefined {
  return value === undefined ? undefined : numberFlag(name, value, NaN);
}

/** The flags every command that runs a model on one prompt shares (`inspect`, `attribute`). */
const PROMPT_COMMAND_OPTIONS = {
  model: { type: "string" },
  prompt: { type: "string" },
  "prompt-file": { type: "string" },
  device: { type: "string", default: "auto" },
  json: { type: "boolean", default: false },
} as const;

/** Their usage lines, after the command's own. */
export const PROMPT_COMMAND_USAGE = [`  --device <device>  ${DEVICES.join(" | ")} (default auto)`, "  --json             print everything as JSON"];

/** What `parsePromptCommand` returns: the flags' values (strings, lists for `multiple`), the device and the prompt. */
export interface PromptCommand {
  values: { model?: string; json: boolean } & Record<string, string | string[] | boolean | undefined>;
  device: (typeof DEVICES)[number];
  prompt: string;
}

/** Parses a prompt command's flags (the shared ones and `extra`, string flags); the device and the prompt are checked. */
export function parsePromptCommand(argv: string[], extra: Record<string, { type: "string"; multiple?: boolean }>): PromptCommand {
  const { values } = parseArgs({ args: argv, options: { ...PROMPT_COMMAND_OPTIONS, ...extra } });
  const shared = values as { model?: string; prompt?: string; "prompt-file"?: string; device: string; json: boolean };
  return { values: values as PromptCommand["values"], device: oneOfFlag("--device", shared.device, DEVICES), prompt: promptFlag(shared.prompt, shared["prompt-file"]) };
}
