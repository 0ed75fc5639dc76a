// Downloading one file into the cache so that it can be trusted: bytes go to `{dest}.incomplete`,
// an interrupted transfer continues from there with an HTTP Range request (within this call, up to
// `attempts` tries, and in any later call), and only a file with the announced size and sha256 is
// renamed to `dest`. A corrupt download is deleted, never kept under a name that looks complete.
// A server silent for HF_HUB_DOWNLOAD_TIMEOUT counts as a broken transfer; a link planted at the
// partial file is replaced, never written through; a redirect off http(s) ends it at once.
// Follows huggingface_hub's http_get; hashing reads the finished file back rather than the stream.
import * as fs from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { fileSha256, gitBlobSha1 } from "../file-io";
import { checkAborted } from "../interrupt";
import { cacheWriteError, ModelFilesError } from "./errors";
import { type HubConnection, type HubTarget, httpError, hubFetch, isUnfollowable, redirectError, revisionText, shownUrl } from "./http";

/** Progress of one file's download, in bytes. */
export interface DownloadProgress {
  /** The file's path in the repo, e.g. `model.safetensors`. */
  file: string;
  /** Bytes on disk so far (a resumed download starts above 0). */
  loaded: number;
  /** The file's full size. */
  total: number;
  /** Set while another process holds this file's download lock: what is being waited for, and until when. */
  waiting?: string;
}

/** One file to fetch: where from, what it must be, where to put it. */
export interface DownloadRequest {
  connection: HubConnection;
  /** The repo, revision and file, for messages and progress. */
  target: HubTarget & { file: string };
  /** URL to GET (a CDN URL gets no token). */
  url: string;
  /** Announced size in bytes. */
  size: number;
  /** Announced sha256 (hex), checked when given. */
  sha256?: string;
  /** Announced git blob id (the ETag of a file outside Git LFS), checked when given. */
  gitOid?: string;
  /** Final path; the partial file is `${dest}.incomplete`. */
  dest: string;
}

export interface DownloadOptions {
  /** Called as bytes arrive. @default none */
  onProgress?: (event: DownloadProgress) => void;
  /** Tries within this call when the connection breaks, each resuming where the last stopped. @default 5 */
  attempts?: number;
  /** Pause before the n-th retry is n × this, in milliseconds. @default 500 */
  retryDelayMs?: number;
  /** Stops the transfer between two chunks (the partial file stays, to resume from). */
  signal?: AbortSignal;
}

/** A broken transfer worth retrying (as opposed to an answer such as 404, or a full disk). */
class Interrupted extends Error {}

/** Downloads `request.url` to `request.dest`, resuming and verifying as described above. */
export async function downloadVerified(
  request: DownloadRequest,
  { onProgress, attempts = 5, retryDelayMs = 500, signal }: DownloadOptions = {},
): Promise<void> {
  const { dest, size, target } = request;
  const incomplete = `${dest}.incomplete`;
  const folder = path.dirname(dest);
  try {
    fs.mkdirSync(folder, { recursive: true });
  } catch (error) {
    throw cacheWriteError(error, folder, target.file);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      await fetchInto(request, incomplete, onProgress, signal);
      break;
    } catch (error) {
      // A redirect to file:, data: or the like is refused at once: retrying cannot change it.
      if (isUnfollowable(error)) throw redirectError("an address that is not http or https", target, request.connection);
      if (error instanceof ModelFilesError || !isRetryable(error)) throw error;
      if (attempt >= attempts) {
        const kept = sizeOf(incomplete);
        throw new ModelFilesError(
          "network",
          `Downloading \`${target.file}\` of ${target.repo} failed ${attempts} times (last: ${describe(error)}). ` +
            `Run the same command again: it resumes from the ${kept} of ${size} bytes kept in ${incomplete}.`,
          { cause: error },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs * attempt));
    }
  }
  await verify(incomplete, request);
  try {
    fs.renameSync(incomplete, dest);
  } catch (error) {
    throw cacheWriteError(error, folder, target.file);
  }
}

function isRetryable(error: unknown): boolean {
  return error instanceof Interrupted || error instanceof TypeError || (error as Error)?.name === "SocketError";
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { message?: string } }).cause?.message;
  return `${(error as Error).message}${cause ? ` (${cause})` : ""}`;
}

/** The size of `file` itself (a link is not followed; a link or anything but a file counts as 0). */
function sizeOf(file: string): number {
  const stat = fs.lstatSync(file, { throwIfNoEntry: false });
  return stat?.isFile() ? stat.size : 0;
}

// Cache files are opened without following a link: one planted at `{blob}.incomplete` must not
// make a download truncate or append to the file it points to.
const WRITE_NEW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW;
const APPEND = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_NOFOLLOW;

/** Removes a link (or anything but a plain file) found where a partial download belongs. */
function replaceNonFile(file: string, name: string): void {
  const stat = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!stat || stat.isFile()) return;
  try {
    fs.rmSync(file, { recursive: true, force: true }); // removes the link itself, never what it points to
  } catch (error) {
    throw cacheWriteError(error, path.dirname(file), name);
  }
}

/** One GET: appends to `incomplete` from its current size up to `request.size` bytes. */
async function fetchInto(request: DownloadRequest, incomplete: string, onProgress?: (event: DownloadProgress) => void, signal?: AbortSignal): Promise<void> {
  checkAborted(signal);
  const { connection, target, url, size } = request;
  replaceNonFile(incomplete, target.file);
  let offset = sizeOf(incomplete);
  if (offset > size) offset = 0; // left by a different file under this name: start over
  if (offset === size) {
    // Nothing left to fetch; an empty file must still exist to be verified and renamed.
    if (size === 0) await writeEmpty(incomplete, target.file);
    return;
  }
  const headers: Record<string, string> = { "Accept-Encoding": "identity" };
  if (offset > 0) headers.Range = `bytes=${offset}-`;
  // No overall time limit (a large file may take hours), but a silent server is given up on after
  // connection.readTimeoutMs without an answer or without new bytes (HF_HUB_DOWNLOAD_TIMEOUT), and
  // the transfer resumes with a Range request. undici alone would wait 300 s.
  const stall = new AbortController();
  const seconds = connection.readTimeoutMs / 1000;
  let loaded = offset;
  let timer: NodeJS.Timeout | undefined;
  const watch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => stall.abort(), connection.readTimeoutMs);
  };
  const stalled = () => new Interrupted(`no data for ${seconds} s after ${loaded} of ${size} bytes (HF_HUB_DOWNLOAD_TIMEOUT=${seconds})`);
  let response: Response;
  try {
    // hubFetch gives up on a server that does not answer; the body is watched from here on.
    response = await hubFetch(connection, url, { headers, signal: stall.signal }, false);
  } catch (error) {
    throw (error as Error)?.name === "TimeoutError" ? stalled() : error;
  }
  watch();
  try {
    if (response.status >= 500) throw new Interrupted(`HTTP ${response.status}`);
    if (!response.ok) throw httpError(response, target, connection);
    if (response.status === 206) {
      const start = /^bytes (\d+)-/.exec(response.headers.get("Content-Range") ?? "")?.[1];
      if (Number(start) !== offset) {
        await response.body?.cancel();
        throw new ModelFilesError("bad-response", `Asked for \`${target.file}\` from byte ${offset} but the server sent a different range.`);
      }
    } else {
      offset = 0; // 200: the server ignored the Range header and sends the whole file
      loaded = 0;
    }
    if (!response.body) throw new Interrupted("empty response body");
    await writeBody(response.body, incomplete, offset, request, onProgress, signal, (bytes) => {
      loaded = bytes;
      watch();
    });
  } catch (error) {
    throw stall.signal.aborted && !(error instanceof ModelFilesError) ? stalled() : error;
  } finally {
    clearTimeout(timer);
  }
}

/** Appends the body to `incomplete` from `offset`, up to `request.size` bytes; `onChunk` gets the bytes so far. */
async function writeBody(
  body: ReadableStream<Uint8Array>,
  incomplete: string,
  offset: number,
  { target, size }: DownloadRequest,
  onProgress: ((event: DownloadProgress) => void) | undefined,
  signal: AbortSignal | undefined,
  onChunk: (loaded: number) => void,
): Promise<void> {
  const folder = path.dirname(incomplete);
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(incomplete, offset > 0 ? APPEND : WRITE_NEW);
  } catch (error) {
    throw cacheWriteError(error, folder, target.file);
  }
  let loaded = offset;
  onProgress?.({ file: target.file, loaded, total: size });
  try {
    for await (const chunk of Readable.fromWeb(body as NodeReadableStream<Uint8Array>)) {
      checkAborted(signal);
      try {
        // A write can stop short at a size limit or a full disk; the next one then fails.
        for (let done = 0; done < (chunk as Buffer).length; ) {
          done += (await handle.write(chunk as Buffer, done)).bytesWritten;
        }
      } catch (error) {
        throw cacheWriteError(error, folder, target.file);
      }
      loaded += (chunk as Buffer).length;
      onChunk(loaded);
      if (loaded > size) {
        throw new ModelFilesError("bad-response", `The server sent more than the announced ${size} bytes of \`${target.file}\`.`);
      }
      onProgress?.({ file: target.file, loaded, total: size });
    }
    if (loaded < size) throw new Interrupted(`connection closed after ${loaded} of ${size} bytes`);
    try {
      await handle.sync(); // on disk before the rename makes it look complete
    } catch (error) {
      throw cacheWriteError(error, folder, target.file);
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Creates `file` empty (an empty repository file: nothing to fetch). */
async function writeEmpty(file: string, name: string): Promise<void> {
  try {
    await (await fs.promises.open(file, WRITE_NEW)).close();
  } catch (error) {
    throw cacheWriteError(error, path.dirname(file), name);
  }
}

/** Checks size and sha256 of the finished file; deletes it and throws if either is wrong. */
async function verify(incomplete: string, { size, sha256, gitOid, target, url }: DownloadRequest): Promise<void> {
  const actualSize = sizeOf(incomplete);
  let problem: string | undefined;
  if (actualSize !== size) {
    problem = `it has ${actualSize} bytes, but the Hub announced ${size}`;
  } else if (sha256) {
    const actual = await fileSha256(incomplete);
    if (actual !== sha256) problem = `its sha256 is ${actual}, but the Hub announced ${sha256} (X-Linked-Etag)`;
  } else if (gitOid) {
    const actual = gitBlobSha1(fs.readFileSync(incomplete));
    if (actual !== gitOid) problem = `its git blob id is ${actual}, but the Hub announced ${gitOid} (ETag)`;
  }
  if (!problem) return;
  fs.rmSync(incomplete, { force: true });
  throw new ModelFilesError(
    "checksum",
    `The download of \`${target.file}\` of ${target.repo} (${revisionText(target)}, from ${shownUrl(new URL(url).origin)}) is corrupt: ` +
      `${problem}. The downloaded file was deleted; run the command again to fetch it anew. ` +
      "If this repeats, something between you and the Hub (a proxy, or the mirror in HF_ENDPOINT) changes the file.",
  );
}
