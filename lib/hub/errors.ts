// The one error type for finding model files, locally or on the Hugging Face Hub. Each error
// carries a `code` for programs and a message for people that names the model, the file or folder,
// and the command or setting that fixes it. Also turns file-system errors while writing the cache
// (full disk, read-only folder, a file where a folder should be) into such a message.
// Programming mistakes (bad option types or values) stay TypeError/RangeError and are not wrapped.

/** What went wrong, for code that wants to react (e.g. retry only `network`). */
export type ModelFilesErrorCode =
  /** A local folder or Hub repo lacks a file gpt2-lab needs. */
  | "missing-file"
  /** The Hub answered 404: no such repo, revision or file. */
  | "not-found"
  /** The Hub answered 401 or 403: private or gated repo, or a bad token. */
  | "unauthorized"
  /** Offline (HF_HUB_OFFLINE or no network) and the model is not in the cache. */
  | "offline"
  /** The network failed during a download, after retries. */
  | "network"
  /** A download did not match the size or sha256 the Hub announced; it was deleted. */
  | "checksum"
  /** The cache folder cannot be written (full, read-only, not a folder). */
  | "cache-write"
  /** The Hub answered in a way gpt2-lab does not understand. */
  | "bad-response";

/** An error while resolving model files; `code` says which kind. */
export class ModelFilesError extends Error {
  override name = "ModelFilesError";
  constructor(
    readonly code: ModelFilesErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Why each file-system error code means the cache cannot take the file, in words. */
const WRITE_FAILURES: Record<string, string> = {
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is used up",
  EFBIG: "the file size limit was reached",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "a folder is in the way",
  EEXIST: "a file is in the way",
  EIO: "an input/output error occurred",
  // A file that appeared as a symbolic link between the check and the open: never written through.
  ELOOP: "a symbolic link is in the way, and links are not written through",
};

/** Whether `error` is a file-system error that means "cannot write here". */
export function isWriteFailure(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" && code in WRITE_FAILURES;
}

/**
 * Wraps a write failure inside the cache into a `cache-write` error naming `folder`;
 * any other error is returned unchanged.
 */
export function cacheWriteError(error: unknown, folder: string, what: string): unknown {
  if (!isWriteFailure(error)) return error;
  const reason = WRITE_FAILURES[error.code as string];
  return new ModelFilesError(
    "cache-write",
    `Cannot write ${what} into the Hugging Face cache folder ${folder}: ${reason} (${error.code}). ` +
      "Free some space or fix the folder's permissions, or set HF_HUB_CACHE (or HF_HOME) to a writable folder. " +
      "Partial downloads are kept as *.incomplete and resume on the next try.",
    { cause: error },
  );
}
