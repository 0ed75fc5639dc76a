// A stand-in for the Hugging Face Hub on 127.0.0.1, serving model repos from local folders with
// the Hub's URL scheme and headers, so downloads are tested without the network:
//   GET  /api/models/{repo}/revision/{rev}      JSON with `sha` and `siblings` (what @huggingface/hub reads)
//   HEAD/GET /{repo}/resolve/{rev}/{path}        small files: 200 + ETag (git blob id) + X-Repo-Commit;
//        LFS files: 302 to a second server (the "CDN") + X-Linked-Etag (sha256) + X-Linked-Size
//   GET  {cdn}/lfs/{sha256}                      the bytes, with Range support
// Switches on the returned object make it misbehave the way a real network, Hub, mirror or proxy can.
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";

/** Extensions stored with Git LFS, as in the Hub's default .gitattributes. */
const LFS_EXTENSIONS = [".safetensors", ".onnx", ".onnx_data", ".bin", ".h5", ".msgpack"];

interface RepoFile {
  path: string;
  bytes: Buffer;
  sha256: string;
  /** git blob id: sha1("blob {size}\0" + bytes), the Hub's ETag for small files. */
  gitOid: string;
  lfs: boolean;
}

interface Repo {
  commit: string;
  files: Map<string, RepoFile>;
}

/** One request the stand-in received. */
export interface LoggedRequest {
  server: "hub" | "cdn";
  method: string;
  path: string;
  range?: string;
  authorization?: string;
}

export interface HubServer {
  /** Base URL of the Hub, for HF_ENDPOINT. */
  url: string;
  /** Every request so far, in order. */
  requests: LoggedRequest[];
  /** The commit id `main` resolves to in `repo`. */
  commitOf(repo: string): string;
  /** Repo file path whose next CDN transfer is cut off halfway (the switch clears itself). */
  dropOnce?: string;
  /** Bytes the last cut-off transfer sent before closing. */
  droppedAfter?: number;
  /** Repo file path served from the CDN with one byte changed (the sha256 no longer matches). */
  corrupt?: string;
  /** Repo file path the API lists but /resolve/ answers 404 for. */
  hideOnResolve?: string;
  /** Repo file path served by /resolve/ with one byte changed and the same size (small files). */
  corruptSmall?: string;
  /** When set, every Hub request needs `Authorization: Bearer <token>`, else 401. */
  requireToken?: string;
  /**
   * LFS files: `absolute` (the Hub's way) redirects to the CDN; `relative`, as a mirror or proxy
   * does, redirects to /proxy/lfs/{sha256} on the Hub server itself, which serves the CDN's bytes.
   */
  lfsRedirect: "absolute" | "relative";
  /** Whether the last hop of a relative LFS redirect repeats X-Linked-Etag and X-Linked-Size. */
  linkedOnLastHop: boolean;
  /** Whether LFS redirects carry X-Linked-Etag and X-Linked-Size at all (a mirror may strip them). */
  sendLinked: boolean;
  /** Old repo ids that answer with a relative 307 to the new one, as the Hub does for renamed repos. */
  renamed: Record<string, string>;
  /** A CDN transfer of `file` that sends `afterBytes` bytes, then nothing, until the client gives up (`once`: the next transfer only). */
  stall?: { file: string; afterBytes: number; once: boolean };
  /** The next `remaining` requests of one kind (the API, a HEAD on /resolve/, a CDN GET) answer 429 with this Retry-After. */
  rateLimit?: { where: "api" | "head" | "cdn"; remaining: number; retryAfter: string };
  /** Extra entries for every repo's listing (`siblings`), as a hostile mirror may send. */
  extraSiblings?: unknown[];
  /** An ETag (and X-Linked-Etag) for the LFS redirects in place of the file's own. */
  lfsEtag?: string;
  /** A Location for the Hub's LFS redirects in place of the CDN's (`file:///etc/passwd`, say). */
  lfsLocation?: string;
  /** When set, the CDN answers every request with a 302 to this Location. */
  cdnRedirect?: string;
  /** Pause between 64 KiB chunks of CDN bodies, in milliseconds, to make downloads take time. */
  chunkDelayMs: number;
  close(): Promise<void>;
}

/** Starts the stand-in; `repos` maps repo ids (`org/name`) to folders whose files it serves. */
export async function startHubServer(repos: Record<string, string>): Promise<HubServer> {
  const loaded = new Map(Object.entries(repos).map(([id, dir]) => [id, readRepo(dir)]));
  const bySha = new Map<string, RepoFile>();
  for (const repo of loaded.values()) for (const file of repo.files.values()) bySha.set(file.sha256, file);

  const cdn = http.createServer((req, res) => void serveCdn(req, res));
  const hub = http.createServer((req, res) => serveHub(req, res));
  await Promise.all([listen(cdn), listen(hub)]);
  const hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
  const cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;

  const server: HubServer = {
    url: hubUrl,
    requests: [],
    chunkDelayMs: 0,
    lfsRedirect: "absolute",
    linkedOnLastHop: false,
    sendLinked: true,
    renamed: {},
    commitOf: (id) => {
      const repo = loaded.get(id);
      if (!repo) throw new Error(`no repo ${id}`);
      return repo.commit;
    },
    close: async () => {
      for (const s of [hub, cdn]) s.closeAllConnections();
      await Promise.all([hub, cdn].map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };

  const log = (name: LoggedRequest["server"], req: http.IncomingMessage) =>
    server.requests.push({ server: name, method: req.method ?? "", path: req.url ?? "", range: req.headers.range, authorization: req.headers.authorization });

  const fail = (res: http.ServerResponse, status: number, code: string | undefined, message: string) => {
    res.writeHead(status, { "Content-Type": "application/json", ...(code ? { "X-Error-Code": code } : {}), "X-Error-Message": message });
    res.end(JSON.stringify({ error: message }));
  };

  /** Answers 429 when the rate limit covers this request; returns whether it did. */
  function rateLimited(where: "api" | "head" | "cdn", res: http.ServerResponse): boolean {
    const limit = server.rateLimit;
    if (!limit || limit.where !== where || limit.remaining <= 0) return false;
    limit.remaining--;
    res.writeHead(429, { "Retry-After": limit.retryAfter, "Content-Length": "0" });
    res.end();
    return true;
  }

  function serveHub(req: http.IncomingMessage, res: http.ServerResponse) {
    log("hub", req);
    const url = new URL(req.url ?? "/", hubUrl);
    if (rateLimited(url.pathname.startsWith("/api/") ? "api" : req.method === "HEAD" ? "head" : "cdn", res)) return;
    if (url.pathname.startsWith("/proxy/lfs/")) return void serveLfs(req, res, url.pathname.slice("/proxy".length), server.linkedOnLastHop);
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/(.+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const match = api ?? resolve;
    if (!match) return fail(res, 404, undefined, "Not Found");
    const newName = server.renamed[match[1]];
    if (newName) {
      res.writeHead(307, { Location: url.pathname.replace(match[1], newName) + url.search, "Content-Length": "0" });
      return res.end();
    }
    if (server.requireToken && req.headers.authorization !== `Bearer ${server.requireToken}`) {
      return fail(res, 401, "GatedRepo", "Access to this model is restricted. You must be authenticated to access it.");
    }
    const repo = loaded.get(match[1]);
    if (!repo) return fail(res, 404, "RepoNotFound", "Repository not found");
    const revision = decodeURIComponent(match[2]);
    if (revision !== "main" && revision !== repo.commit) return fail(res, 404, "RevisionNotFound", "Invalid rev id");
    if (api) {
      res.writeHead(200, { "Content-Type": "application/json" });
      return res.end(
        JSON.stringify({
          _id: createHash("sha1").update(match[1]).digest("hex").slice(0, 24),
          id: match[1],
          sha: repo.commit,
          siblings: [...[...repo.files.keys()].map((rfilename) => ({ rfilename })), ...(server.extraSiblings ?? [])],
          private: false,
          gated: false,
          downloads: 0,
          likes: 0,
          lastModified: "2024-01-01T00:00:00.000Z",
          pipeline_tag: "text-generation",
        }),
      );
    }
    const filePath = decodeURIComponent(match[3]);
    const file = repo.files.get(filePath);
    if (!file || filePath === server.hideOnResolve) return fail(res, 404, "EntryNotFound", `${filePath} does not exist on "${revision}"`);
    if (file.lfs) {
      const where = `/lfs/${file.sha256}?name=${encodeURIComponent(path.basename(filePath))}`;
      res.writeHead(302, {
        Location: server.lfsLocation ?? (server.lfsRedirect === "relative" ? `/proxy${where}` : `${cdnUrl}${where}`),
        ETag: `"${file.gitOid}"`,
        ...(server.sendLinked ? linkedHeaders(file) : {}),
        ...(server.lfsEtag ? { ETag: `"${server.lfsEtag}"`, "X-Linked-Etag": `"${server.lfsEtag}"` } : {}),
        "X-Repo-Commit": repo.commit,
        "Content-Length": "0",
      });
      return res.end();
    }
    let bytes = file.bytes;
    if (server.corruptSmall === filePath) {
      bytes = Buffer.from(bytes);
      bytes[bytes.length >> 1] ^= 0x01;
    }
    sendBytes(req, res, bytes, { ETag: `"${file.gitOid}"`, "X-Repo-Commit": repo.commit });
  }

  async function serveCdn(req: http.IncomingMessage, res: http.ServerResponse) {
    log("cdn", req);
    if (rateLimited("cdn", res)) return;
    if (server.cdnRedirect) {
      res.writeHead(302, { Location: server.cdnRedirect, "Content-Length": "0" });
      return res.end();
    }
    await serveLfs(req, res, req.url ?? "", false);
  }

  /** An LFS file's bytes from `/lfs/{sha256}`, with the linked headers when `linked`. */
  async function serveLfs(req: http.IncomingMessage, res: http.ServerResponse, where: string, linked: boolean) {
    const sha = /^\/lfs\/([0-9a-f]{64})/.exec(where)?.[1];
    const file = sha ? bySha.get(sha) : undefined;
    if (!file) return fail(res, 404, undefined, "NoSuchKey");
    let bytes = file.bytes;
    if (server.corrupt === file.path) {
      bytes = Buffer.from(bytes);
      bytes[bytes.length >> 1] ^= 0xff;
    }
    const drop = server.dropOnce === file.path;
    if (drop) server.dropOnce = undefined;
    const stall = server.stall?.file === file.path && req.method === "GET" ? server.stall : undefined;
    if (stall?.once) server.stall = undefined;
    const headers = { ETag: `"${file.sha256}"`, ...(linked && server.sendLinked ? linkedHeaders(file) : {}) };
    await sendBytes(req, res, bytes, headers, drop ? (sent) => (server.droppedAfter = sent) : undefined, stall?.afterBytes);
  }

  /** Sends `bytes` or the requested range; with `onDrop`, closes the socket halfway instead. */
  async function sendBytes(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    bytes: Buffer,
    headers: Record<string, string>,
    onDrop?: (sent: number) => void,
    stallAfter?: number,
  ) {
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    let start = 0;
    let end = bytes.length; // exclusive
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]) + 1, bytes.length) : bytes.length;
      if (start >= bytes.length) {
        res.writeHead(416, { "Content-Range": `bytes */${bytes.length}` });
        return res.end();
      }
    }
    res.writeHead(range ? 206 : 200, {
      ...headers,
      "Accept-Ranges": "bytes",
      "Content-Length": String(end - start),
      "Content-Type": "application/octet-stream",
      ...(range ? { "Content-Range": `bytes ${start}-${end - 1}/${bytes.length}` } : {}),
    });
    if (req.method === "HEAD") return res.end();
    const stopAt = onDrop ? start + Math.floor((end - start) / 2) : stallAfter !== undefined ? Math.min(end, start + stallAfter) : end;
    for (let at = start; at < stopAt; at += 1 << 16) {
      const chunk = bytes.subarray(at, Math.min(at + (1 << 16), stopAt));
      if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
      if (server.chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, server.chunkDelayMs));
    }
    if (stallAfter !== undefined) {
      // Silent from here on, with the connection open, until the client hangs up.
      await new Promise((resolve) => res.once("close", resolve));
      return;
    }
    if (onDrop) {
      onDrop(stopAt - start);
      // Let the half already written reach the client, then cut the connection.
      await new Promise((resolve) => setTimeout(resolve, 50));
      res.socket?.destroy();
      return;
    }
    res.end();
  }

  return server;
}

function linkedHeaders(file: RepoFile): Record<string, string> {
  return { "X-Linked-Etag": `"${file.sha256}"`, "X-Linked-Size": String(file.bytes.length) };
}

function listen(server: http.Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
}

function readRepo(dir: string): Repo {
  const files = new Map<string, RepoFile>();
  for (const relative of (fs.readdirSync(dir, { recursive: true }) as string[]).sort()) {
    const full = path.join(dir, relative);
    if (!fs.statSync(full).isFile()) continue;
    const bytes = fs.readFileSync(full);
    const repoPath = relative.split(path.sep).join("/");
    files.set(repoPath, {
      path: repoPath,
      bytes,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      gitOid: createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex"),
      lfs: LFS_EXTENSIONS.some((ext) => repoPath.endsWith(ext)),
    });
  }
  // A commit id that changes whenever any file does.
  const commit = createHash("sha1");
  for (const file of files.values()) commit.update(`${file.path} ${file.gitOid}\n`);
  return { commit: commit.digest("hex"), files };
}
