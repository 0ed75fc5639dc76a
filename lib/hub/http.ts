// Talking HTTP to the Hugging Face Hub (or a mirror at HF_ENDPOINT): a fetch with the token and a timeout, a file's
// metadata from a HEAD on `/{repo}/resolve/{revision}/{path}` (as huggingface_hub's
// get_hf_file_metadata does), and the Hub's error answers turned into messages that say what to do.
// The token is only ever sent to the endpoint's own origin, never to the CDN a download redirects to.
import { HubApiError } from "@huggingface/hub";
import { ModelFilesError } from "./errors";

/** How to reach the Hub: where, with which token, and how long to wait for metadata. */
export interface HubConnection {
  /** Base URL without a trailing slash, e.g. `https://huggingface.co`. */
  endpoint: string;
  /** Access token (`hf_…`), or undefined for anonymous access. */
  token?: string;
  /** Time limit for one metadata request, in milliseconds. */
  timeoutMs: number;
}

/**
 * `fetch` that adds `Authorization` when `url` is on the endpoint's origin, and, with `timeout`,
 * gives up after the connection's time limit.
 */
export function hubFetch(connection: HubConnection, url: string, init: RequestInit = {}, timeout = true): Promise<Response> {
  const headers = new Headers(init.headers);
  if (connection.token && new URL(url).origin === new URL(connection.endpoint).origin) {
    headers.set("Authorization", `Bearer ${connection.token}`);
  }
  return fetch(url, { ...init, headers, ...(timeout ? { signal: AbortSignal.timeout(connection.timeoutMs) } : {}) });
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

/** HEADs `file` in `repo` at `revision`, following the Hub's relative redirects (renamed repos). */
export async function fetchFileMetadata(connection: HubConnection, target: HubTarget & { file: string }): Promise<FileMetadata> {
  const encodedPath = target.file.split("/").map(encodeURIComponent).join("/");
  let url = `${connection.endpoint}/${target.repo}/resolve/${encodeURIComponent(target.commit ?? target.revision)}/${encodedPath}`;
  for (let hops = 0; ; hops++) {
    // identity: Content-Length must be the real size, not a compressed one.
    const response = await hubFetch(connection, url, { method: "HEAD", redirect: "manual", headers: { "Accept-Encoding": "identity" } });
    const location = response.headers.get("Location");
    if (response.status >= 300 && response.status < 400 && location && !/^[a-z][a-z0-9+.-]*:/i.test(location) && hops < 10) {
      url = new URL(location, url).href;
      continue;
    }
    if (!(response.ok || (response.status >= 300 && response.status < 400))) throw httpError(response, target, connection);
    const linkedEtag = response.headers.get("X-Linked-Etag");
    const etag = normalizeEtag(linkedEtag ?? response.headers.get("ETag"));
    const size = Number(response.headers.get("X-Linked-Size") ?? response.headers.get("Content-Length"));
    // The etag becomes a file name in the cache: only plain hash-like names are accepted.
    if (!etag || !/^[\w-][\w.-]*$/.test(etag) || !Number.isSafeInteger(size) || size < 0) {
      throw new ModelFilesError(
        "bad-response",
        `The Hub at ${connection.endpoint} sent no usable ETag or size for \`${target.file}\` of ${target.repo}; is HF_ENDPOINT a Hugging Face Hub?`,
      );
    }
    return {
      etag,
      size,
      sha256: linkedEtag && /^[0-9a-f]{64}$/.test(etag) ? etag : undefined,
      url: location ? new URL(location, url).href : url,
      commit: response.headers.get("X-Repo-Commit") ?? undefined,
    };
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
    return new ModelFilesError("not-found", `${what} on ${connection.endpoint} (HTTP 404${said}).`);
  }
  return new ModelFilesError("bad-response", `The Hub at ${connection.endpoint} answered HTTP ${status}${said} for ${where}.`);
}
