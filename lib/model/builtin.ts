// Models that ship inside gpt2-lab, so the notebooks, the CLI and CI always have a model whose
// distributions mean something, with no network: `shakespeare`, a small GPT-2 trained on Tiny
// Shakespeare (models/shakespeare/README.md). Also the default model and the rule for falling
// back to the built-in one: only when no model was asked for and `gpt2` cannot be had.
import * as path from "node:path";
import { ModelFilesError } from "../hub/errors";

/** Built-in models by name: the folders under the package's models/. */
export const BUILTIN_MODELS: Readonly<Record<string, string>> = {
  shakespeare: path.join(__dirname, "..", "..", "..", "models", "shakespeare"),
};

/** The model used when none is named: the smallest real GPT-2. */
export const DEFAULT_MODEL = "gpt2";
/** What replaces it when it cannot be had. */
export const FALLBACK_MODEL = "shakespeare";

/** The folder of a built-in model, or undefined for any other name. */
export function builtinModelDir(name: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(BUILTIN_MODELS, name) ? BUILTIN_MODELS[name] : undefined;
}

/**
 * Whether a failure to get the default model means "not available here" (offline, not cached,
 * no network) rather than a real problem that must be shown.
 */
export function isUnavailable(error: unknown): boolean {
  return error instanceof ModelFilesError && (error.code === "offline" || error.code === "network");
}

/** The one line shown when the built-in model stands in for the default. */
export function fallbackNote(error: unknown): string {
  const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
  return (
    `Using the built-in '${FALLBACK_MODEL}' model: '${DEFAULT_MODEL}' is not cached and cannot be downloaded here (${reason}). ` +
    `To use real GPT-2, run \`npx gpt2-lab download ${DEFAULT_MODEL}\` once with network access, or name a model folder.`
  );
}
