// Talking HTTP to the Hugging Face Hub (or a mirror at HF_ENDPOINT): a fetch with the token, a
// timeout and HTTP 429 waited out, a file's metadata from a HEAD on `/{repo}/resolve/{revision}/{path}`
// (as huggingface_hub's get_hf_file_metadata does), and the Hub's error answers turned into messages
// that say what to do. The token is only ever sent to the endpoint's own origin, never to the CDN a
// download redirects to; only http(s) redirects are followed.
import { HubApiError } from "@huggingface/hub";
import { ModelFilesError } from "./errors";

/** How to reach the Hub: where, with which token, and how long to wait for an answer. */
export interface HubConnection {
  /** Base URL without a trailing slash, e.g. `https://huggingface.co`. */
  endpoint: string;
  /** Access token (`hf_…`), or undefined for anonymous access. */
  token?: string;
  /** Time limit for one metadata request, in milliseconds. */
  timeoutMs: number;
  /** How long a download may wait for its answer or its next bytes, in milliseconds. */
  readTimeoutMs: number;
}

/** The longest a request waits out the Hub's rate limiting (HTTP 429), all its waits together. */
export const MAX_RATE_LIMIT_WAIT_MS = 60_000;

/**
 * `fetch` that adds `Authorization` when `url` is on the endpoint's origin, waits out HTTP 429 as
 * `Retry-After` asks (at most MAX_RATE_LIMIT_WAIT_MS in all), and gives up on a silent server: with
 * `timeout`, after the connection's time limit for the whole request (metadata); without, after
 * `readTimeoutMs` with no answer (a download, whose body the caller watches). `init.signal` aborts it.
 */
export async function hubFetch(connection: HubConnection, url: string, init: RequestInit = {}, timeout = true): Promise<Response> {
  const headers = new Headers(init.headers);
  if (connection.token && new URL(url).origin === new URL(connection.endpoint).origin) {
    headers.set("Authorization", `Bearer ${connection.token}`);
  }
  for (let waited = 0; ; ) {
    const attempt = new AbortController();
    const relay = () => attempt.abort(init.signal?.reason);
    if (init.signal?.aborted) relay();
    init.signal?.addEventListener("abort", relay, { once: true });
    const silent = () => attempt.abort(new DOMException(`no answer within ${connection.readTimeoutMs / 1000} s`, "TimeoutError"));
    const timer = timeout ? undefined : setTimeout(silent, connection.readTimeoutMs);
    const signal = timeout ? AbortSignal.any([attempt.signal, AbortSignal.timeout(connection.timeoutMs)]) : attempt.signal;
    let response: Response;
    try {
      response = await fetch(url, { ...init, headers, signal });
    } finally {
      clearTimeout(timer);
    }
    if (response.status !== 429) return response;
    const wait = retryAfterMs(response.headers.get("Retry-After"));
    await response.body?.cancel();
    if (waited + wait > MAX_RATE_LIMIT_WAIT_MS) {
      throw new ModelFilesError(
        "network",
        `The Hub at ${shownUrl(connection.endpoint)} is rate-limiting requests (HTTP 429) and asked to wait ${Math.ceil(wait / 1000)} s more, ` +
          `past the ${MAX_RATE_LIMIT_WAIT_MS / 1000} s gpt2-lab waits${waited > 0 ? ` (it already waited ${Math.round(waited / 1000)} s)` : ""}. ` +
          "Run the command again later; with a token (HF_TOKEN) the Hub allows more requests.",
      );
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
    waited += wait;
  }
}

/** `Retry-After` in milliseconds: seconds or an HTTP date; 1 s when absent or unreadable. */
export function retryAfterMs(value: string | null): number {
  if (value === null || value.trim() === "") return 1000;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? 1000 : Math.max(0, date - Date.now());
}

/** Whether `error` means the Hub could not be reached (no network, refused, timed out, 5xx). */
export function isNetworkFailure(error: unknown): boolean {
  if (error instanceof HubApiError) return error.statusCode >= 500;
  const name = (error as Error | undefined)?.name;
  return name === "TimeoutError" || name === "AbortError" || (error instanceof TypeError && /fetch failed|terminated/.test(error.message));
}

/** What the Hub says about one file before it is downloaded. */
export interface FileMetadata {
  /** Blob name in the cache: the sha256 for LFS files, the git blob id otherwise. */
  etag: string;
  /** Size in bytes. */
  size: number;
  /** The sha256 of the content, known for LFS files (from `X-Linked-Etag`). */
  sha256?: string;
  /** Where to GET the bytes: the resolve URL, or the CDN URL an LFS file redirects to. */
  url: string;
  /** The commit the revision resolved to (`X-Repo-Commit`). */
  commit?: string;
}

/** Where in the Hub a request was aimed, for error messages. */
export interface HubTarget {
  repo: string;
  /** The revision as the user gave it, e.g. `main`. */
  revision: string;
  /** The commit `revision` resolved to; requests use it when known, so all files match. */
  commit?: string;
  file?: string;
}

/** "revision `main` (commit 0123456789ab)" for messages. */
export function revisionText({ revision, commit }: HubTarget): string {
  return `revision \`${revision}\`${commit && commit !== revision ? ` (commit ${commit.slice(0, 12)})` : ""}`;
}

/** Files the Hub stores with Git LFS (its default .gitattributes), whose ETag is not their hash. */
const LFS_FILE = /\.(safetensors|onnx|onnx_data|data|bin|h5|msgpack|pt|pth)$|\.onnx_data_\d+$/;

/**
 * HEADs `file` in `repo` at `revision`, following relative redirects (renamed repos, mirrors). The
 * Hub puts an LFS file's sha256 and size (`X-Linked-Etag`, `X-Linked-Size`) on the redirect that
 * points at its storage, which need not repeat them: they are taken from whichever hop sent them.
 * An LFS file whose sha256 no hop gave is refused, since nothing could check its bytes.
 */
export async function fetchFileMetadata(connection: HubConnection, target: HubTarget & { file: string }): Promise<FileMetadata> {
  const encodedPath = target.file.split("/").map(encodeURIComponent).join("/");
  let url = `${connection.endpoint}/${target.repo}/resolve/${encodeURIComponent(target.commit ?? target.revision)}/${encodedPath}`;
  let linkedEtag: string | null = null;
  let linkedSize: string | null = null;
  let commit: string | null = null;
  for (let hops = 0; ; hops++) {
    // identity: Content-Length must be the real size, not a compressed one.
    const response = await hubFetch(connection, url, { method: "HEAD", redirect: "manual", headers: { "Accept-Encoding": "identity" } });
    linkedEtag = response.headers.get("X-Linked-Etag") ?? linkedEtag;
    linkedSize = response.headers.get("X-Linked-Size") ?? linkedSize;
    commit = response.headers.get("X-Repo-Commit") ?? commit;
    const location = response.headers.get("Location");
    const redirect = response.status >= 300 && response.status < 400;
    if (redirect && location && !/^[a-z][a-z0-9+.-]*:/i.test(location) && hops < 10) {
      url = new URL(location, url).href;
      continue;
    }
    if (!(response.ok || redirect)) throw httpError(response, target, connection);
    if (redirect && location) checkFollowable(new URL(location, url), target, connection);
    const etag = normalizeEtag(linkedEtag ?? response.headers.get("ETag"));
    const size = Number(linkedSize ?? response.headers.get("Content-Length"));
    // The etag becomes a file name in the cache: only plain hash-like names are accepted.
    if (!etag || !/^[\w-][\w.-]*$/.test(etag) || !Number.isSafeInteger(size) || size < 0) {
      throw new ModelFilesError(
        "bad-response",
        `The Hub at ${shownUrl(connection.endpoint)} sent no usable ETag or size for \`${target.file}\` of ${target.repo}; is HF_ENDPOINT a Hugging Face Hub?`,
      );
    }
    const sha256 = linkedEtag && /^[0-9a-f]{64}$/.test(etag) ? etag : undefined;
    if (!sha256 && (linkedEtag !== null || linkedSize !== null || LFS_FILE.test(target.file))) {
      throw new ModelFilesError(
        "bad-response",
        `The Hub at ${shownUrl(connection.endpoint)} sent no sha256 (X-Linked-Etag) for \`${target.file}\` of ${target.repo}, ` +
          "so its bytes could not be checked; nothing was stored. If HF_ENDPOINT is a mirror or proxy, it must pass on the Hub's X-Linked-Etag header.",
      );
    }
    return { etag, size, sha256, url: redirect && location ? new URL(location, url).href : url, commit: commit ?? undefined };
  }
}

/**
 * Refuses a redirect to anything but http(s) (`file:`, `data:`, …): a server must not make gpt2-lab
 * read a local file or take bytes from the redirect itself. Nothing was fetched when this throws.
 */
export function checkFollowable(url: URL, target: HubTarget & { file: string }, connection: HubConnection): void {
  if (url.protocol === "http:" || url.protocol === "https:") return;
  throw redirectError(`a \`${url.protocol}\` address`, target, connection);
}

/** Whether fetch refused to follow a redirect (or a URL) whose scheme is not http(s). */
export function isUnfollowable(error: unknown): boolean {
  return error instanceof TypeError && /URL scheme must be a HTTP\(S\) scheme|not implemented/.test(`${(error.cause as Error | undefined)?.message}`);
}

/** The error for a redirect that is not http(s); `to` says where it went, as far as is known. */
export function redirectError(to: string, target: HubTarget & { file: string }, connection: HubConnection): ModelFilesError {
  return new ModelFilesError(
    "bad-response",
    `The Hub at ${shownUrl(connection.endpoint)} redirected \`${target.file}\` of ${target.repo} to ${to}; only http and https ` +
      "redirects are followed, so nothing was fetched. If HF_ENDPOINT is a mirror, it is misconfigured or hostile.",
  );
}

/** `url` without any user name or password, for messages. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.href.replace(/\/$/, url.endsWith("/") ? "/" : "");
  } catch {
    return url.replace(/\/\/[^/@]*@/, "//");
  }
}

/** `W/"abc"` → `abc`. */
function normalizeEtag(etag: string | null): string | undefined {
  return etag?.replace(/^W\//, "").replace(/^"|"$/g, "") || undefined;
}

/** Turns an error answer (401, 403, 404, …) about `target` into a ModelFilesError. */
export function httpError(response: Response, target: HubTarget, connection: HubConnection): ModelFilesError {
  return statusError(response.status, response.headers.get("X-Error-Code"), response.headers.get("X-Error-Message"), target, connection);
}

/**
 * The same for an error raised by @huggingface/hub (`errorCode`: the answer's X-Error-Code header);
 * other errors are returned unchanged.
 */
export function apiError(error: unknown, errorCode: string | null, target: HubTarget, connection: HubConnection): unknown {
  if (!(error instanceof HubApiError)) return error;
  const hubMessage = typeof error.data?.error === "string" ? error.data.error : undefined;
  return statusError(error.statusCode, errorCode, hubMessage ?? null, target, connection);
}

function statusError(status: number, code: string | null, hubMessage: string | null, target: HubTarget, connection: HubConnection): ModelFilesError {
  const { repo, revision, file } = target;
  const said = hubMessage ? `: ${hubMessage}` : "";
  const where = `${repo}${file ? `, file \`${file}\`` : ""}, ${revisionText(target)}`;
  if (status === 401 || status === 403) {
    const tokenState = connection.token ? "a token was sent (HF_TOKEN or the saved login) but does not give access" : "no token was sent (HF_TOKEN is not set)";
    return new ModelFilesError(
      "unauthorized",
      `The Hub refused access to ${where} (HTTP ${status}${said}); ${tokenState}. ` +
        "If the repo is private or gated, accept its terms on its Hub page, create a read token at " +
        "https://huggingface.co/settings/tokens and set HF_TOKEN=hf_… before running again. " +
        "The Hub also answers 401 for repos that do not exist: check the name.",
    );
  }
  if (status === 404) {
    const what =
      code === "EntryNotFound" && file
        ? `${repo} has no file \`${file}\` at ${revisionText(target)}`
        : code === "RevisionNotFound"
          ? `${repo} has no revision \`${revision}\` (a branch, tag or commit id)`
          : code === "RepoNotFound"
            ? `There is no model repo ${repo}`
            : `Not found: ${where}`;
    return new ModelFilesError("not-found", `${what} on ${shownUrl(connection.endpoint)} (HTTP 404${said}).`);
  }
  return new ModelFilesError("bad-response", `The Hub at ${shownUrl(connection.endpoint)} answered HTTP ${status}${said} for ${where}.`);
}
