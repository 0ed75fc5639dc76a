// Finding a model's files: a local folder as it is, or a Hugging Face Hub repo fetched into the
// shared Hub cache (see cache.ts) and reused from there, offline too. Follows the behaviour of
// huggingface_hub's hf_hub_download: the repo's commit comes from the Hub's API (via
// @huggingface/hub), each missing file is fetched once, checked and linked into snapshots/{commit}.
// Only the files gpt2-lab reads are fetched (config, tokenizer, safetensors weights, optionally an
// ONNX export), never the whole repo; PyTorch .bin, TensorFlow and Flax weights are left out.
import * as fs from "node:fs";
import * as path from "node:path";
import { modelInfo } from "@huggingface/hub";
import { expectBoolean, expectFunction, expectOptions, expectString, invalid } from "../checks";
import { checkAborted } from "../interrupt";
import { downloadVerified, type DownloadProgress } from "./download";
import { LOCK_STALE_MS, withFileLock } from "./lock";
import { dropIfCorrupt, fileExists, linkSnapshotFile, readRef, repoCache, type RepoCache, writeRef } from "./cache";
import { checkToken, downloadTimeoutFromEnv, endpointFromEnv, hubCacheDir, offlineFromEnv, timeoutFromEnv, tokenFromEnv } from "./env";
import { cacheWriteError, ModelFilesError } from "./errors";
import * as http from "./http";
import { isLocalPath, localModelFiles, MODEL_FILES, modelFilesIn, ONNX_FILES, type ModelFiles, type OnnxModelFiles } from "./model-folder";

/** Short names of the released GPT-2 checkpoints and the Hub repos that hold them. */
export const GPT2_SHORT_NAMES: Readonly<Record<string, string>> = {
  gpt2: "openai-community/gpt2",
  "gpt2-medium": "openai-community/gpt2-medium",
  "gpt2-large": "openai-community/gpt2-large",
  "gpt2-xl": "openai-community/gpt2-xl",
  distilgpt2: "distilbert/distilgpt2",
};

const COMMIT_ID = /^[0-9a-f]{40}$/;
/** The small files of a model folder, checked against their git blob ids whenever the cache is read. */
const SMALL_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt"];

export interface ResolveOptions {
  /** Branch, tag or 40-hex commit id of the Hub repo; ignored for local folders. @default 'main' */
  revision?: string;
  /**
   * Also find an existing ONNX export (see ONNX_FILES) and return it as `onnx`; model.safetensors is
   * then neither required nor downloaded (`weights` is set only when it is there anyway). @default false
   */
  onnx?: boolean;
  /** Called as each file downloads (also while waiting for another process fetching it). @default none */
  onProgress?: (event: DownloadProgress) => void;
  /** Stops a download between two chunks; what arrived is kept as *.incomplete and resumes next time. */
  signal?: AbortSignal;
  /** The Hub cache folder. @default $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub */
  cacheDir?: string;
  /** The Hub's base URL. @default $HF_ENDPOINT, else 'https://huggingface.co' */
  endpoint?: string;
  /** Access token for private or gated repos. @default $HF_TOKEN, else the token saved by `hf auth login` */
  token?: string;
  /** Use only the cache, never the network. @default true when $HF_HUB_OFFLINE is 1/on/yes/true */
  offline?: boolean;
}

const OPTION_KEYS = ["revision", "onnx", "onProgress", "signal", "cacheDir", "endpoint", "token", "offline"];

/**
 * Finds the files of `nameOrDir`: a local folder (absolute, `./…`, `../…`, or any existing folder),
 * a short GPT-2 name (`gpt2`, `distilgpt2`, `gpt2-medium`, `gpt2-large`, `gpt2-xl`) or a Hub repo
 * id `org/name`. Hub files are downloaded into the cache when missing.
 */
export function resolveModelFiles(nameOrDir: string, options: ResolveOptions & { onnx: true }): Promise<OnnxModelFiles>;
export function resolveModelFiles(nameOrDir: string, options?: ResolveOptions & { onnx?: false }): Promise<ModelFiles>;
export function resolveModelFiles(nameOrDir: string, options?: ResolveOptions): Promise<ModelFiles | OnnxModelFiles>;
export async function resolveModelFiles(nameOrDir: string, options: ResolveOptions = {}): Promise<ModelFiles | OnnxModelFiles> {
  checkOptions(nameOrDir, options);
  const {
    revision = "main",
    onnx = false,
    onProgress,
    signal,
    cacheDir = hubCacheDir(),
    endpoint = endpointFromEnv(),
    token,
    offline = offlineFromEnv(),
  } = options;
  if (isLocalPath(nameOrDir)) return localModelFiles(path.resolve(nameOrDir), onnx);
  if (!/^https?:\/\/[^/]/.test(endpoint)) {
    throw new RangeError(`Expected \`endpoint\` (or HF_ENDPOINT) to be an http(s) URL such as https://huggingface.co, got \`${http.shownUrl(endpoint)}\``);
  }
  if (http.shownUrl(endpoint) !== endpoint) {
    throw new RangeError(
      `The Hub address ${http.shownUrl(endpoint)} (\`endpoint\` or HF_ENDPOINT) includes a user name or password; gpt2-lab sends ` +
        "only a Hugging Face token (HF_TOKEN), as a Bearer header: take them out of the address",
    );
  }

  const repo = hubRepoId(nameOrDir);
  const cache = repoCache(path.resolve(cacheDir), repo);
  const command = `npx gpt2-lab download ${nameOrDir}${revision === "main" ? "" : ` --revision ${revision}`}${onnx ? " --onnx" : ""}`;
  const fromCache = () => cachedFiles(cache, revision, onnx);
  const notCached = (reason: string, cause?: unknown) =>
    new ModelFilesError(
      "offline",
      `${repo} (revision \`${revision}\`${onnx ? ", with its ONNX export" : ""}) is not in the Hugging Face cache at ${cache.cacheDir}, ` +
        `and ${reason}. Run \`${command}\` ${offline ? "with HF_HUB_OFFLINE unset" : "once online"} to fetch it.`,
      { cause },
    );

  // Offline, or a commit id already cached: no network at all.
  if (offline) {
    const cached = fromCache();
    if (cached) return cached;
    throw notCached("HF_HUB_OFFLINE is set (offline mode)");
  }
  if (COMMIT_ID.test(revision)) {
    const cached = fromCache();
    if (cached) return cached;
  }
  // The token is checked only when it is about to be sent.
  const found = token !== undefined ? { value: token, source: "the `token` option" } : tokenFromEnv();
  const connection: http.HubConnection = { endpoint: endpoint.replace(/\/+$/, ""), token: found && checkToken(found), timeoutMs: timeoutFromEnv(), readTimeoutMs: downloadTimeoutFromEnv() };

  // Which commit is `revision` now, and which files does it have?
  let errorCode: string | null = null;
  const clientFetch: typeof fetch = async (input, init) => {
    const response = await http.hubFetch(connection, String(input instanceof Request ? input.url : input), init);
    errorCode = response.headers.get("X-Error-Code");
    return response;
  };
  let info: { sha?: string; filePaths?: string[] };
  try {
    info = await modelInfo({ name: repo, revision, hubUrl: connection.endpoint, additionalFields: ["sha", "filePaths"], fetch: clientFetch });
  } catch (error) {
    if (!http.isNetworkFailure(error)) throw http.apiError(error, errorCode, { repo, revision }, connection);
    const cached = fromCache();
    if (cached) return cached;
    throw notCached(`the Hub at ${http.shownUrl(connection.endpoint)} cannot be reached (${(error as Error).message})`, error);
  }
  if (!info.sha || !COMMIT_ID.test(info.sha) || !Array.isArray(info.filePaths)) {
    throw new ModelFilesError("bad-response", `The Hub at ${http.shownUrl(connection.endpoint)} sent no commit id or file list for ${repo}; is HF_ENDPOINT a Hugging Face Hub?`);
  }
  const commit = info.sha;
  // Every name in the listing must stay inside the snapshot, whether or not it is fetched.
  for (const file of info.filePaths) cache.snapshotFile(commit, file);
  const wanted = chooseFiles(info.filePaths, { repo, revision, onnx });
  for (const file of wanted) await fetchIntoSnapshot(cache, connection, { repo, revision, commit, file }, onProgress, signal);
  writeRef(cache, revision, commit);
  const files = cachedFiles(cache, commit, onnx);
  if (!files) throw new ModelFilesError("cache-write", `The files of ${repo} vanished from ${cache.snapshotDir(commit)} right after download.`);
  return files;
}

/** The Hub repo id for a short GPT-2 name or an `org/name`; throws RangeError for anything else. */
export function hubRepoId(name: string): string {
  const mapped = GPT2_SHORT_NAMES[name];
  if (mapped) return mapped;
  const parts = name.split("/");
  if (parts.length === 2 && parts.every((part) => /^[\w.-]+$/.test(part) && !/^\.+$/.test(part) && !part.includes("--"))) return name;
  throw new RangeError(
    `Expected a model folder, a short name (${Object.keys(GPT2_SHORT_NAMES).join(", ")}) or a Hub repo id \`org/name\`, ` +
      `got \`${name}\`; a folder path must exist, or start with ./ or ../`,
  );
}

function checkOptions(nameOrDir: unknown, options: ResolveOptions): void {
  expectString(nameOrDir, "nameOrDir", true);
  expectOptions(options, "options", OPTION_KEYS);
  const { revision, onnx, onProgress, offline } = options;
  for (const key of ["revision", "cacheDir", "endpoint", "token"] as const) {
    if (options[key] !== undefined) expectString(options[key], key, true);
  }
  if (revision !== undefined && (revision.startsWith("/") || revision.split("/").some((part) => part === "" || part === "." || part === ".."))) {
    throw invalid(RangeError, "revision", "a branch, tag or commit id", revision);
  }
  if (onnx !== undefined) expectBoolean(onnx, "onnx");
  if (offline !== undefined) expectBoolean(offline, "offline");
  if (onProgress !== undefined) expectFunction(onProgress, "onProgress");
}

/** The cached snapshot `revision` (a ref or a commit) points to, if it has every needed file. */
function cachedFiles(cache: RepoCache, revision: string, onnx: boolean): ModelFiles | OnnxModelFiles | undefined {
  const commit = COMMIT_ID.test(revision) ? revision : readRef(cache, revision);
  if (!commit) return undefined;
  // A damaged small file makes the snapshot incomplete: it is fetched again (or reported missing offline).
  if (SMALL_FILES.map((file) => dropIfCorrupt(cache, commit, file)).some(Boolean)) return undefined;
  return modelFilesIn(cache.snapshotDir(commit), onnx, { source: "hub", repo: cache.repo, commit });
}

/** The repo files to fetch, from the repo's file list; throws if a needed one is not there. */
function chooseFiles(filePaths: string[], { repo, revision, onnx }: { repo: string; revision: string; onnx: boolean }): string[] {
  const has = new Set(filePaths);
  const needed: string[] = MODEL_FILES.filter((file) => !(onnx && file === "model.safetensors"));
  const missing = needed.filter((file) => !has.has(file));
  if (missing.length > 0) {
    throw new ModelFilesError(
      "missing-file",
      `${repo} (revision \`${revision}\`) has no ${missing.join(", ")}; gpt2-lab reads GPT-2 models with ${needed.join(", ")} ` +
        "(safetensors weights only, not pytorch_model.bin). Pick a repo that has them, e.g. openai-community/gpt2.",
    );
  }
  if (has.has("tokenizer_config.json")) needed.push("tokenizer_config.json");
  if (onnx) {
    const onnxFile = ONNX_FILES.find((file) => has.has(file));
    if (!onnxFile) {
      throw new ModelFilesError(
        "missing-file",
        `${repo} (revision \`${revision}\`) has no ONNX export (looked for ${ONNX_FILES.join(", ")}). ` +
          "Leave out --onnx (the `onnx` option) to build the ONNX graph from model.safetensors, or use a repo with an export such as Xenova/gpt2.",
      );
    }
    // Exports over 2 GB keep their weights in external data files next to the graph.
    needed.push(onnxFile, ...filePaths.filter((file) => file.startsWith(`${onnxFile}_data`) || file === `${onnxFile}.data`));
  }
  return needed;
}

/** Makes snapshots/{commit}/{file} present: links an existing blob or downloads it under a lock. */
async function fetchIntoSnapshot(
  cache: RepoCache,
  connection: http.HubConnection,
  target: http.HubTarget & { commit: string; file: string },
  onProgress?: (event: DownloadProgress) => void,
  signal?: AbortSignal,
): Promise<void> {
  checkAborted(signal);
  const { commit, file } = target;
  if (fileExists(cache.snapshotFile(commit, file)) && !dropIfCorrupt(cache, commit, file)) return;
  let meta: http.FileMetadata;
  try {
    meta = await http.fetchFileMetadata(connection, target);
  } catch (error) {
    if (!http.isNetworkFailure(error)) throw error;
    throw new ModelFilesError("network", `Lost the connection to ${http.shownUrl(connection.endpoint)} while looking up \`${file}\` of ${cache.repo}: ${(error as Error).message}. Run the command again.`, { cause: error });
  }
  const blob = cache.blobPath(meta.etag);
  if (!fileExists(blob)) {
    const download = async () => {
      if (fileExists(blob)) return; // another process finished it while we waited
      const gitOid = !meta.sha256 && /^[0-9a-f]{40}$/.test(meta.etag) ? meta.etag : undefined;
      await downloadVerified({ connection, target, url: meta.url, size: meta.size, sha256: meta.sha256, gitOid, dest: blob }, { onProgress, signal });
    };
    // While another process downloads this blob, show its progress from the size of its partial
    // file, and say what is being waited for (after a kill -9, a lock nobody refreshes any more).
    const lock = cache.lockPath(meta.etag);
    const onWait = () => {
      if (fileExists(blob)) return true;
      const loaded = fs.statSync(`${blob}.incomplete`, { throwIfNoEntry: false })?.size ?? 0;
      const refreshed = fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      const waiting =
        `another process holds its download lock (${lock}), last refreshed ${Math.round((Date.now() - refreshed) / 1000)} s ago; ` +
        `it is taken over once ${LOCK_STALE_MS / 1000} s pass without a refresh`;
      onProgress?.({ file, loaded: Math.min(loaded, meta.size), total: meta.size, waiting });
      return false;
    };
    try {
      await withFileLock(lock, download, { onWait });
    } catch (error) {
      throw cacheWriteError(error, cache.cacheDir, file);
    }
  }
  linkSnapshotFile(cache, commit, file, meta.etag);
}
