// The settings gpt2-lab reads from the environment, each in one place and named as huggingface_hub
// names them (its constants.py), so that Python and gpt2-lab share one cache and one login:
// HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN (and HF_TOKEN_PATH), HF_HUB_OFFLINE,
// HF_HUB_ETAG_TIMEOUT, HF_HUB_DOWNLOAD_TIMEOUT, plus gpt2-lab's own GPT2_LAB_CACHE for converted models.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const TRUE_VALUES = new Set(["1", "on", "yes", "true"]);

/** `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`. */
export function hfHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.HF_HOME || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "huggingface");
}

/** The Hub cache folder: `$HF_HUB_CACHE`, else `$HF_HOME/hub`. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.HF_HUB_CACHE || path.join(hfHome(env), "hub"));
}

/** gpt2-lab's own cache (converted models): `$GPT2_LAB_CACHE`, else `$HF_HOME/gpt2-lab`. */
export function labCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.GPT2_LAB_CACHE || path.join(hfHome(env), "gpt2-lab");
}

/** `$HF_ENDPOINT`, else `https://huggingface.co`. */
export function endpointFromEnv(): string {
  return (process.env.HF_ENDPOINT || "https://huggingface.co").replace(/\/+$/, "");
}

/** A Hub access token and where it came from (for messages, which never show the token itself). */
export interface Token {
  value: string;
  source: string;
}

/** `$HF_TOKEN`, else the token `hf auth login` saved in `$HF_TOKEN_PATH` or `$HF_HOME/token`. */
export function tokenFromEnv(): Token | undefined {
  for (const name of ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"]) {
    const value = process.env[name];
    if (value) return { value: value.trim(), source: `the environment variable ${name}` };
  }
  const file = process.env.HF_TOKEN_PATH || path.join(hfHome(), "token");
  try {
    const value = fs.readFileSync(file, "utf8").trim();
    return value ? { value, source: `the token file ${file}` } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks that a token can be sent as an HTTP header: printable ASCII without spaces, as Hugging
 * Face tokens are. The error says what is wrong and where the token came from, never the token.
 */
export function checkToken({ value, source }: Token): string {
  const bad = [...value].findIndex((c) => !/^[\x21-\x7e]$/.test(c));
  if (bad < 0) return value;
  const code = value.codePointAt(bad)!;
  const what =
    code === 0x0a || code === 0x0d
      ? "a line break"
      : code < 0x20 || code === 0x7f
        ? "a control character"
        : code === 0x20 || code === 0x09
          ? "a space"
          : "a character that is not ASCII";
  throw new RangeError(
    `The Hugging Face token from ${source} contains ${what} (at character ${bad + 1} of ${value.length}), so it cannot be sent; ` +
      "a token is one line of letters, digits, - and _ (such as hf_…): copy it again from https://huggingface.co/settings/tokens",
  );
}

/** Whether `$HF_HUB_OFFLINE` is set to 1/on/yes/true (any case), as in huggingface_hub. */
export function offlineFromEnv(): boolean {
  return TRUE_VALUES.has((process.env.HF_HUB_OFFLINE ?? "").trim().toLowerCase());
}

/** `$HF_HUB_ETAG_TIMEOUT` seconds (huggingface_hub's name) in milliseconds, else 10 s: one metadata request. */
export function timeoutFromEnv(): number {
  return millisecondsFromEnv("HF_HUB_ETAG_TIMEOUT", 10);
}

/**
 * `$HF_HUB_DOWNLOAD_TIMEOUT` seconds (huggingface_hub's name) in milliseconds, else 10 s: how long a
 * download may wait for its answer or its next bytes before the transfer counts as stalled.
 */
export function downloadTimeoutFromEnv(): number {
  return millisecondsFromEnv("HF_HUB_DOWNLOAD_TIMEOUT", 10);
}

function millisecondsFromEnv(name: string, fallbackSeconds: number): number {
  const seconds = Number(process.env[name]);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : fallbackSeconds) * 1000;
}
