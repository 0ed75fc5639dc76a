// Tests for lib/hub/resolve.ts and the download and lock code under it, against the local Hub
// stand-in in hub-server.ts. Every test gets its own HF_HUB_CACHE and points HF_ENDPOINT at its
// own stand-in (fixtures.ts); the default endpoint is a closed local port, so nothing can reach the
// real Hub. Expected bytes are the source folder's own sha256s, computed with node:crypto.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { scanCachedRepo } from "@huggingface/hub";
import type { DownloadProgress } from "../../lib/hub/download";
import { ModelFilesError } from "../../lib/hub/errors";
import { hubRepoId, resolveModelFiles } from "../../lib/hub/resolve";
import { closeServer, GPT2, ONNX_REPO, onnxSource, repoDir, resolveInChild, scratch, setUp, sha256, source, weightsSha } from "./fixtures";

test("downloads a model into the Hub cache layout, then reloads it without the network", async () => {
  const { server, cache } = await setUp();
  const events: DownloadProgress[] = [];
  const files = await resolveModelFiles("gpt2", { onProgress: (e) => events.push(e) });
  const commit = server.commitOf(GPT2);
  assert.equal(files.source, "hub");
  assert.equal(files.repo, GPT2);
  assert.equal(files.commit, commit);
  assert.equal(files.dir, path.join(repoDir(cache), "snapshots", commit));
  assert.equal(files.weights, path.join(files.dir, "model.safetensors"));
  assert.equal(files.tokenizerConfig, path.join(files.dir, "tokenizer_config.json"));
  assert.equal(files.onnx, undefined);
  for (const [got, name] of [[files.config, "config.json"], [files.tokenizer, "tokenizer.json"], [files.weights, "model.safetensors"]]) {
    assert.equal(sha256(got!), sha256(path.join(source, name!)), name);
  }
  // Python's layout: snapshot entries are relative symlinks to blobs named by sha256 (LFS) or git id.
  assert.equal(fs.readlinkSync(files.weights), path.join("..", "..", "blobs", weightsSha()));
  assert.equal(fs.readFileSync(path.join(repoDir(cache), "refs", "main"), "utf8"), commit);
  // @huggingface/hub's own cache scanner (a port of Python's scan_cache_dir) reads the layout.
  const scanned = await scanCachedRepo(repoDir(cache));
  assert.deepEqual(scanned.revisions.map((r) => [r.commitOid, r.refs, r.files.length]), [[commit, ["main"], 4]]);
  const last = events.filter((e) => e.file === "model.safetensors").at(-1)!;
  assert.deepEqual(last, { file: "model.safetensors", loaded: fs.statSync(files.weights).size, total: fs.statSync(files.weights).size });

  // Cached: one API call to learn the commit, no file is fetched again.
  const before = server.requests.length;
  assert.deepEqual(await resolveModelFiles("gpt2"), files);
  assert.deepEqual(server.requests.slice(before).map((r) => r.path.split("?")[0]), [`/api/models/${GPT2}/revision/main`]);

  // HF_HUB_OFFLINE: not a single request.
  process.env.HF_HUB_OFFLINE = "1";
  assert.deepEqual(await resolveModelFiles("gpt2"), files);
  assert.equal(server.requests.length, before + 1);
  delete process.env.HF_HUB_OFFLINE;

  // Server gone: the connection is refused and the cache answers.
  await closeServer(server);
  assert.deepEqual(await resolveModelFiles("gpt2"), files);
  assert.deepEqual(await resolveModelFiles(GPT2, { revision: commit }), files);
});

test("resumes with an HTTP Range request when the connection drops mid-file", async () => {
  const { server } = await setUp();
  server.dropOnce = "model.safetensors";
  const files = await resolveModelFiles("gpt2");
  assert.equal(sha256(files.weights), weightsSha());
  const gets = server.requests.filter((r) => r.server === "cdn" && r.path.includes(weightsSha()));
  assert.equal(gets.length, 2);
  assert.equal(gets[0].range, undefined);
  const resumedAt = Number(/^bytes=(\d+)-$/.exec(gets[1].range ?? "")?.[1]);
  assert.ok(resumedAt > 0 && resumedAt <= server.droppedAfter!, `resumed at ${resumedAt}, dropped after ${server.droppedAfter}`);
});

test("continues a partial download left by an earlier run", async () => {
  const { server, cache } = await setUp();
  const blobs = path.join(repoDir(cache), "blobs");
  fs.mkdirSync(blobs, { recursive: true });
  const head = fs.readFileSync(path.join(source, "model.safetensors")).subarray(0, 1_000_000);
  fs.writeFileSync(path.join(blobs, `${weightsSha()}.incomplete`), head);
  const files = await resolveModelFiles("gpt2");
  assert.equal(sha256(files.weights), weightsSha());
  const gets = server.requests.filter((r) => r.server === "cdn" && r.path.includes(weightsSha()));
  assert.deepEqual(gets.map((r) => r.range), ["bytes=1000000-"]);
  assert.equal(fs.existsSync(path.join(blobs, `${weightsSha()}.incomplete`)), false);
});

test("rejects a download whose sha256 differs and keeps nothing that looks complete", async () => {
  const { server, cache } = await setUp();
  server.corrupt = "model.safetensors";
  await assert.rejects(resolveModelFiles("gpt2"), (error: ModelFilesError) => {
    assert.equal(error.code, "checksum");
    assert.match(error.message, /model\.safetensors.*openai-community\/gpt2/);
    assert.match(error.message, /sha256 is [0-9a-f]{64}, but the Hub announced [0-9a-f]{64}/);
    assert.match(error.message, /was deleted/);
    return true;
  });
  const blobs = fs.readdirSync(path.join(repoDir(cache), "blobs"));
  assert.ok(!blobs.some((name) => name.startsWith(weightsSha())), `left in blobs/: ${blobs}`);
  assert.equal(fs.existsSync(path.join(repoDir(cache), "snapshots", server.commitOf(GPT2), "model.safetensors")), false);
  assert.equal(fs.existsSync(path.join(repoDir(cache), "refs", "main")), false);
  await assert.rejects(resolveModelFiles("gpt2", { offline: true }), { code: "offline" });
  // Once the bytes are right again, the same cache fills normally.
  server.corrupt = undefined;
  assert.equal(sha256((await resolveModelFiles("gpt2")).weights), weightsSha());
});

test("404s name the repo, the revision or the file", async () => {
  const { server } = await setUp();
  await assert.rejects(resolveModelFiles("nobody/nothing"), { code: "not-found", message: /There is no model repo nobody\/nothing on http:\/\/127\.0\.0\.1:\d+ \(HTTP 404/ });
  await assert.rejects(resolveModelFiles("gpt2", { revision: "v9" }), { code: "not-found", message: /openai-community\/gpt2 has no revision `v9`/ });
  server.hideOnResolve = "tokenizer.json";
  await assert.rejects(resolveModelFiles("gpt2"), {
    code: "not-found",
    message: new RegExp(`openai-community/gpt2 has no file \`tokenizer.json\` at revision \`main\` \\(commit ${server.commitOf(GPT2).slice(0, 12)}\\)`),
  });
  // A repo without safetensors weights is refused before anything is downloaded.
  await assert.rejects(resolveModelFiles(ONNX_REPO), { code: "missing-file", message: /someone\/gpt2-onnx \(revision `main`\) has no model\.safetensors/ });
});

test("401 says to set HF_TOKEN, and the token is never sent to the CDN", async () => {
  const { server } = await setUp();
  server.requireToken = "hf_right";
  await assert.rejects(resolveModelFiles("gpt2"), { code: "unauthorized", message: /HTTP 401.*no token was sent \(HF_TOKEN is not set\).*set HF_TOKEN=hf_/ });
  process.env.HF_TOKEN = "hf_wrong";
  await assert.rejects(resolveModelFiles("gpt2"), { code: "unauthorized", message: /a token was sent \(HF_TOKEN or the saved login\) but does not give access/ });
  process.env.HF_TOKEN = "hf_right";
  assert.equal(sha256((await resolveModelFiles("gpt2")).weights), weightsSha());
  const cdn = server.requests.filter((r) => r.server === "cdn");
  assert.ok(cdn.length > 0);
  assert.ok(cdn.every((r) => r.authorization === undefined));
  assert.ok(server.requests.filter((r) => r.server === "hub").at(-1)!.authorization === "Bearer hf_right");
});

test("two processes resolving one model at once download each file once", async () => {
  const { server, cache } = await setUp();
  server.chunkDelayMs = 5; // ~1 s for the weights, so the two downloads overlap
  const env = { HF_HUB_CACHE: cache, HF_ENDPOINT: server.url };
  const [a, b] = await Promise.all([resolveInChild(env), resolveInChild(env)]);
  assert.equal(a.error, undefined);
  assert.equal(b.error, undefined);
  assert.equal(a.files!.weights, b.files!.weights);
  assert.equal(sha256(a.files!.weights), weightsSha());
  assert.equal(server.requests.filter((r) => r.server === "cdn" && r.path.includes(weightsSha())).length, 1);
  assert.equal(fs.readdirSync(path.join(repoDir(cache), "blobs")).filter((n) => n.endsWith(".incomplete")).length, 0);
});

test("waits while another process holds a blob's lock, and takes over an abandoned lock", async () => {
  const { server, cache } = await setUp();
  const blobs = path.join(repoDir(cache), "blobs");
  const lock = path.join(cache, ".locks", "models--openai-community--gpt2", `${weightsSha()}.lockdir`);
  const partial = path.join(blobs, `${weightsSha()}.incomplete`);
  fs.mkdirSync(lock, { recursive: true });
  fs.mkdirSync(blobs, { recursive: true });
  fs.writeFileSync(partial, Buffer.alloc(1000));
  const events: DownloadProgress[] = [];
  const pending = resolveModelFiles("gpt2", { onProgress: (e) => events.push(e) });
  // The waiter reports the holder's progress from its partial file.
  for (let waited = 0; !events.some((e) => e.file === "model.safetensors" && e.loaded === 1000); waited += 50) {
    assert.ok(waited < 10_000, "never reported the other download's progress");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // It also says what it waits for, so a lock left by a killed process does not look like a hang.
  assert.match(events.find((e) => e.waiting)?.waiting ?? "", /another process holds its download lock \(.*\.lockdir\), last refreshed \d+ s ago; it is taken over once 20 s pass/);
  // The holder finishes: the blob appears, the partial file and the lock go.
  fs.copyFileSync(path.join(source, "model.safetensors"), path.join(blobs, weightsSha()));
  fs.rmSync(partial);
  fs.rmdirSync(lock);
  assert.equal(sha256((await pending).weights), weightsSha());
  const weightGets = () => server.requests.filter((r) => r.server === "cdn" && r.path.includes(weightsSha())).length;
  assert.equal(weightGets(), 0);

  // A lock nobody has refreshed for a minute belongs to a dead process and is taken over.
  const { server: server2, cache: cache2 } = await setUp();
  const staleLock = path.join(cache2, ".locks", "models--openai-community--gpt2", `${weightsSha()}.lockdir`);
  fs.mkdirSync(staleLock, { recursive: true });
  const minuteAgo = new Date(Date.now() - 60_000);
  fs.utimesSync(staleLock, minuteAgo, minuteAgo);
  assert.equal(sha256((await resolveModelFiles("gpt2")).weights), weightsSha());
  assert.equal(server2.requests.filter((r) => r.server === "cdn" && r.path.includes(weightsSha())).length, 1);
  assert.equal(fs.existsSync(staleLock), false);
});

test("a cache folder that cannot be created fails with its name", async () => {
  // chmod does not stop root, so the cache path runs through a regular file: mkdir then fails
  // with ENOTDIR for every user, root included.
  await setUp();
  const file = path.join(scratch, "a-file");
  fs.writeFileSync(file, "not a folder");
  process.env.HF_HUB_CACHE = path.join(file, "hub");
  await assert.rejects(resolveModelFiles("gpt2"), (error: ModelFilesError) => {
    assert.equal(error.code, "cache-write");
    assert.ok(error.message.includes(path.join(file, "hub")), error.message);
    assert.match(error.message, /not a folder \(ENOTDIR\).*HF_HUB_CACHE/);
    return true;
  });
});

test("a disk that fills up mid-file leaves only a partial file, which the next run resumes", async () => {
  // `ulimit -f` caps file size for the child (root too): writes past 4 MB fail with EFBIG, the way
  // they fail with ENOSPC on a full disk. The weights (13 MB) cannot fit; the small files do.
  const { server, cache } = await setUp();
  const result = await resolveInChild({ HF_HUB_CACHE: cache, HF_ENDPOINT: server.url }, "ulimit -f 4096; ");
  assert.equal(result.error?.code, "cache-write");
  assert.match(result.error!.message, /model\.safetensors.*file size limit was reached \(EFBIG\)/);
  assert.ok(result.error!.message.includes(path.join(repoDir(cache), "blobs")), result.error!.message);
  const blobs = path.join(repoDir(cache), "blobs");
  assert.equal(fs.existsSync(path.join(blobs, weightsSha())), false);
  assert.equal(fs.statSync(path.join(blobs, `${weightsSha()}.incomplete`)).size, 4096 * 1024);
  assert.equal(fs.existsSync(path.join(repoDir(cache), "refs", "main")), false);
  const files = await resolveModelFiles("gpt2");
  assert.equal(sha256(files.weights), weightsSha());
  const ranges = server.requests.filter((r) => r.server === "cdn" && r.path.includes(weightsSha())).map((r) => r.range);
  assert.equal(ranges.at(-1), `bytes=${4096 * 1024}-`);
});

test("offline with nothing cached fails at once with the download command", async () => {
  const { server } = await setUp();
  process.env.HF_HUB_OFFLINE = "1";
  const start = Date.now();
  await assert.rejects(resolveModelFiles("gpt2-medium"), {
    code: "offline",
    message: /openai-community\/gpt2-medium \(revision `main`\) is not in the Hugging Face cache at .*HF_HUB_OFFLINE is set.*`npx gpt2-lab download gpt2-medium`/,
  });
  assert.ok(Date.now() - start < 1000);
  assert.equal(server.requests.length, 0);
  delete process.env.HF_HUB_OFFLINE;
  // No network at all (a closed port) says so, and gives the same command.
  await assert.rejects(resolveModelFiles("gpt2", { endpoint: "http://127.0.0.1:9", revision: "v2" }), {
    code: "offline",
    message: /cannot be reached.*`npx gpt2-lab download gpt2 --revision v2`/,
  });
});

test("onnx: true fetches the ONNX export with its external data, not the safetensors", async () => {
  const { server, cache } = await setUp();
  const files = await resolveModelFiles(ONNX_REPO, { onnx: true });
  const snapshot = path.join(cache, "models--someone--gpt2-onnx", "snapshots", server.commitOf(ONNX_REPO));
  assert.equal(files.onnx, path.join(snapshot, "onnx", "decoder_model_merged.onnx"));
  assert.equal(files.weights, undefined);
  assert.equal(sha256(files.onnx), sha256(path.join(onnxSource, "onnx", "decoder_model_merged.onnx")));
  assert.equal(sha256(`${files.onnx}_data`), sha256(path.join(onnxSource, "onnx", "decoder_model_merged.onnx_data")));
  assert.equal(fs.existsSync(path.join(snapshot, "onnx", "decoder_model.onnx")), false);
  await assert.rejects(resolveModelFiles("gpt2", { onnx: true }), { code: "missing-file", message: /has no ONNX export.*Leave out --onnx/ });
});

test("local folders are used as they are, and a missing file is named with the fix", async () => {
  const files = await resolveModelFiles(source);
  assert.deepEqual(files, {
    dir: source,
    config: path.join(source, "config.json"),
    tokenizer: path.join(source, "tokenizer.json"),
    tokenizerConfig: path.join(source, "tokenizer_config.json"),
    weights: path.join(source, "model.safetensors"),
    source: "local",
  });
  // An existing folder needs no ./ in front.
  const cwd = process.cwd();
  process.chdir(scratch);
  try {
    assert.equal((await resolveModelFiles("source")).dir, source);
    assert.equal((await resolveModelFiles("./source")).dir, source);
  } finally {
    process.chdir(cwd);
  }
  await assert.rejects(resolveModelFiles(onnxSource), {
    code: "missing-file",
    message: new RegExp(`${onnxSource} has no model\\.safetensors.*npx gpt2-lab make-model --shape tiny --out`),
  });
  assert.equal((await resolveModelFiles(onnxSource, { onnx: true })).onnx, path.join(onnxSource, "onnx", "decoder_model_merged.onnx"));
  await assert.rejects(resolveModelFiles("./no-such-folder"), { code: "missing-file", message: /no-such-folder does not exist/ });
});

test("short names map to their Hub repos; other names must be org/name", () => {
  const table: [string, string][] = [
    ["gpt2", "openai-community/gpt2"],
    ["gpt2-medium", "openai-community/gpt2-medium"],
    ["gpt2-large", "openai-community/gpt2-large"],
    ["gpt2-xl", "openai-community/gpt2-xl"],
    ["distilgpt2", "distilbert/distilgpt2"],
    ["Xenova/gpt2", "Xenova/gpt2"],
  ];
  for (const [name, repo] of table) assert.equal(hubRepoId(name), repo);
  for (const bad of ["shakespeare-xyz", "a/b/c", "a/..", "a--b/c"]) assert.throws(() => hubRepoId(bad), RangeError, bad);
});

test("options are checked where they come in", async () => {
  await assert.rejects(resolveModelFiles("gpt2", { revison: "main" } as never), { name: "TypeError", message: /Unknown option `revison`; expected one of revision/ });
  await assert.rejects(resolveModelFiles("gpt2", { revision: "" }), TypeError);
  await assert.rejects(resolveModelFiles("gpt2", { revision: "../../x" }), RangeError);
  await assert.rejects(resolveModelFiles("gpt2", { onnx: "yes" as never }), { name: "TypeError", message: /`onnx` to be a boolean/ });
  await assert.rejects(resolveModelFiles("gpt2", { endpoint: "huggingface.co" }), RangeError);
  await assert.rejects(resolveModelFiles(""), TypeError);
});
