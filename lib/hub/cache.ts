// The Hugging Face Hub cache on disk, laid out exactly as huggingface_hub (Python) and
// @huggingface/hub lay it out, so both share downloads with gpt2-lab:
//   $HF_HUB_CACHE/models--{org}--{name}/blobs/{etag}             file contents, named by hash
//                                       snapshots/{commit}/{path} symlink to ../../blobs/{etag}
//                                       refs/{revision}           the commit a branch or tag was at
// Every write goes to a temporary name first and is renamed into place, so an interrupted program
// never leaves something that looks complete. Only model repos; datasets and spaces are left out.
import * as fs from "node:fs";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import { getRepoFolderName } from "@huggingface/hub";
import { gitBlobSha1, writeFileAtomically } from "../file-io";
import { hubCacheDir } from "./env";
import { cacheWriteError, ModelFilesError } from "./errors";

/** Where one repo's files live inside the cache. */
export interface RepoCache {
  /** `org/name` on the Hub. */
  repo: string;
  /** The cache folder it belongs to. */
  cacheDir: string;
  /** `…/models--org--name`. */
  root: string;
  blobPath(etag: string): string;
  /** The lock folder guarding one blob while it downloads. */
  lockPath(etag: string): string;
  snapshotDir(commit: string): string;
  /** `snapshots/{commit}/{file}`, for a repository path such as `onnx/model.onnx`. */
  snapshotFile(commit: string, file: string): string;
  refPath(revision: string): string;
}

/**
 * `folder/name` for a name that came from outside (a server's file listing, a revision, a commit, an
 * ETag): a relative path of plain segments, which cannot leave `folder`. Anything else (not a
 * string, empty, absolute, a backslash, an empty, `.` or `..` segment, a NUL) is refused, naming
 * `repo` and the name; callers make every cache path through here, before anything is fetched or
 * written.
 */
export function joinInside(folder: string, name: unknown, repo: string, what: string): string {
  const plain =
    typeof name === "string" &&
    !/[\\\0]/.test(name) &&
    !/^[A-Za-z]:/.test(name) &&
    name.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..");
  if (!plain) {
    throw new ModelFilesError(
      "bad-response",
      `${repo}: ${what} ${JSON.stringify(name) ?? String(name)} is not a plain relative path (segments separated by /, none empty, . or ..), ` +
        "so it could lead outside the cache; nothing was fetched or written. If HF_ENDPOINT is a mirror, it is misconfigured or hostile.",
    );
  }
  return path.join(folder, ...(name as string).split("/"));
}

/** The cache paths of model repo `repo` (`org/name`) in `cacheDir`. */
export function repoCache(cacheDir: string, repo: string): RepoCache {
  const folder = getRepoFolderName({ type: "model", name: repo });
  const root = path.join(cacheDir, folder);
  const snapshotDir = (commit: string) => joinInside(path.join(root, "snapshots"), commit, repo, "the commit");
  return {
    repo,
    cacheDir,
    root,
    blobPath: (etag) => joinInside(path.join(root, "blobs"), etag, repo, "the blob name (ETag)"),
    // Not huggingface_hub's `.locks/{folder}/{etag}.lock`: that is a flock()ed file which Python
    // leaves behind, and this lock is a folder.
    lockPath: (etag) => joinInside(path.join(cacheDir, ".locks", folder), `${etag}.lockdir`, repo, "the blob name (ETag)"),
    snapshotDir,
    snapshotFile: (commit, file) => joinInside(snapshotDir(commit), file, repo, "the file name"),
    refPath: (revision) => joinInside(path.join(root, "refs"), revision, repo, "the revision"),
  };
}

/** The commit `revision` pointed to when last fetched, or undefined if never fetched. */
export function readRef(cache: RepoCache, revision: string): string | undefined {
  try {
    return fs.readFileSync(cache.refPath(revision), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Records that `revision` points to `commit` (skipped when it already does). */
export function writeRef(cache: RepoCache, revision: string, commit: string): void {
  if (revision === commit || readRef(cache, revision) === commit) return;
  const file = cache.refPath(revision);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomically(file, commit);
  } catch (error) {
    throw cacheWriteError(error, path.dirname(file), `the revision \`${revision}\` of ${cache.repo}`);
  }
}

/** Whether `file` exists, following symlinks (a snapshot link to a missing blob does not count). */
export function fileExists(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A git blob id: the ETag, and so the blob name, of a file the Hub keeps outside Git LFS. */
const GIT_BLOB_ID = /^[0-9a-f]{40}$/;

/**
 * Checks a cached small file against its blob name (its git blob id) and, when they differ,
 * removes the blob and the snapshot link, so the file is fetched again instead of trusted.
 * Returns whether it was removed. LFS blobs, named by their sha256, were checked when they arrived.
 */
export function dropIfCorrupt(cache: RepoCache, commit: string, file: string): boolean {
  const pointer = cache.snapshotFile(commit, file);
  let blob: string;
  try {
    blob = fs.realpathSync(pointer);
  } catch {
    return false;
  }
  const name = path.basename(blob);
  if (!GIT_BLOB_ID.test(name) || gitBlobSha1(fs.readFileSync(blob)) === name) return false;
  fs.rmSync(pointer, { force: true });
  fs.rmSync(blob, { force: true });
  return true;
}

/**
 * Makes `snapshots/{commit}/{file}` point to the blob `etag` with a relative symlink, as the
 * Python library does; where symlinks are not allowed (Windows without developer mode) it copies.
 */
export function linkSnapshotFile(cache: RepoCache, commit: string, file: string, etag: string): string {
  const pointer = cache.snapshotFile(commit, file);
  const blob = cache.blobPath(etag);
  const temp = `${pointer}.${randomUUID()}.tmp`;
  try {
    fs.mkdirSync(path.dirname(pointer), { recursive: true });
    try {
      fs.symlinkSync(path.relative(path.dirname(pointer), blob), temp);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EPERM") throw error;
      fs.copyFileSync(blob, temp);
    }
    fs.renameSync(temp, pointer);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw cacheWriteError(error, path.dirname(pointer), file);
  }
  return pointer;
}

/** One commit of a cached repo. */
export interface CachedRevision {
  /** The 40-hex commit id (the snapshot folder's name). */
  commit: string;
  /** Branches and tags that pointed here when last fetched, e.g. `['main']`. */
  refs: string[];
  /** Files present in the snapshot, relative paths with `/`, sorted. */
  files: string[];
  /** The snapshot folder. */
  path: string;
}

/** One model repo found in the cache. */
export interface CachedModel {
  /** `org/name` on the Hub. */
  repo: string;
  /** The repo's cache folder, `…/models--org--name`. */
  path: string;
  /** Bytes of complete blobs (each counted once, however many snapshots use it). */
  sizeBytes: number;
  /** Bytes of unfinished downloads (`*.incomplete`), which resume on the next fetch. */
  partialBytes: number;
  revisions: CachedRevision[];
}

export interface ListCachedModelsOptions {
  /** The cache folder to scan. @default hubCacheDir() ($HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub) */
  cacheDir?: string;
}

/** Lists the model repos in the Hub cache, sorted by name; an absent cache folder gives `[]`. */
export async function listCachedModels({ cacheDir = hubCacheDir() }: ListCachedModelsOptions = {}): Promise<CachedModel[]> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(cacheDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const models: CachedModel[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !entry.name.startsWith("models--")) continue;
    const root = path.join(cacheDir, entry.name);
    const repo = entry.name.slice("models--".length).split("--").join("/");
    const { sizeBytes, partialBytes } = await blobSizes(path.join(root, "blobs"));
    const refs = await readRefs(path.join(root, "refs"));
    const revisions: CachedRevision[] = [];
    for (const commit of await readdirOrEmpty(path.join(root, "snapshots"))) {
      const dir = path.join(root, "snapshots", commit);
      revisions.push({ commit, refs: refs.get(commit) ?? [], files: await snapshotFiles(dir), path: dir });
    }
    models.push({ repo, path: root, sizeBytes, partialBytes, revisions });
  }
  return models.sort((a, b) => a.repo.localeCompare(b.repo));
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return (await fs.promises.readdir(dir)).sort();
  } catch {
    return [];
  }
}

async function blobSizes(blobsDir: string): Promise<{ sizeBytes: number; partialBytes: number }> {
  let sizeBytes = 0;
  let partialBytes = 0;
  for (const name of await readdirOrEmpty(blobsDir)) {
    const stat = await fs.promises.lstat(path.join(blobsDir, name)).catch(() => undefined);
    if (!stat?.isFile()) continue;
    if (name.endsWith(".incomplete")) partialBytes += stat.size;
    else sizeBytes += stat.size;
  }
  return { sizeBytes, partialBytes };
}

/** Commit → ref names, from `refs/` (refs may contain `/`, e.g. `refs/pr/1`). */
async function readRefs(refsDir: string): Promise<Map<string, string[]>> {
  const byCommit = new Map<string, string[]>();
  const entries = await fs.promises.readdir(refsDir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    const commit = (await fs.promises.readFile(file, "utf8")).trim();
    const name = path.relative(refsDir, file).split(path.sep).join("/");
    byCommit.set(commit, [...(byCommit.get(commit) ?? []), name].sort());
  }
  return byCommit;
}

/** Files (followed links that resolve) under a snapshot folder, as sorted relative paths. */
async function snapshotFiles(dir: string): Promise<string[]> {
  const entries = await fs.promises.readdir(dir, { recursive: true }).catch(() => [] as string[]);
  const files: string[] = [];
  for (const relative of entries) {
    if (relative.endsWith(".tmp")) continue;
    if (fileExists(path.join(dir, relative))) files.push(relative.split(path.sep).join("/"));
  }
  return files.sort();
}
