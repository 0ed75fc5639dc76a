// The faults a hostile network, mirror or user can bring, each against the local Hub stand-in
// (hub-server.ts): metadata split across relative redirects, storage that corrupts bytes, small
// files changed without changing size, tokens that are not one clean line, and passwords in the
// endpoint. What must hold: nothing unchecked is stored, and no secret is ever in a message.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ModelFilesError } from "../../lib/hub/errors";
import { resolveModelFiles } from "../../lib/hub/resolve";
import { ONNX_REPO } from "./fixtures";
import { closeServer, GPT2, repoDir, scratch, setUp, sha256, source, weightsSha } from "./fixtures";
import { startHubServer } from "./hub-server";

/** The files under a cache's blobs/ folder. */
const blobs = (cache: string) => fs.readdirSync(path.join(repoDir(cache), "blobs"), { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);

test("a relative redirect that carries the sha256 only on its first hop: corrupt bytes are refused, nothing stored", async () => {
  const { server, cache } = await setUp();
  server.lfsRedirect = "relative";
  server.corrupt = "model.safetensors";
  await assert.rejects(resolveModelFiles("gpt2"), (error: ModelFilesError) => {
    assert.equal(error.code, "checksum");
    assert.match(error.message, /model\.safetensors.*is corrupt: its sha256 is [0-9a-f]{64}, but the Hub announced/);
    return true;
  });
  assert.ok(!blobs(cache).some((name) => name === weightsSha() || name.startsWith(weightsSha())), "no blob of the weights, partial or whole");
  assert.ok(server.requests.some((r) => r.path.startsWith("/proxy/lfs/")), "the bytes came through the relative redirect");
  // Once the storage behaves, the same redirect gives a checked file, named by its sha256.
  server.corrupt = undefined;
  const files = await resolveModelFiles("gpt2");
  assert.equal(path.basename(fs.realpathSync(files.weights)), weightsSha());
  assert.equal(sha256(files.weights), weightsSha());
});

test("the same with the sha256 repeated on the last hop, and a renamed repo (307) before the Hub's own redirect", async () => {
  const { server } = await setUp();
  server.lfsRedirect = "relative";
  server.linkedOnLastHop = true;
  server.renamed = { "old-org/gpt2": GPT2 };
  const files = await resolveModelFiles("old-org/gpt2");
  assert.equal(sha256(files.weights), weightsSha());
  assert.ok(server.requests.some((r) => r.path.startsWith("/old-org/gpt2/resolve/")));
});

test("an LFS file whose sha256 no hop gives is not stored at all, with a relative or an absolute redirect", async () => {
  for (const redirect of ["relative", "absolute"] as const) {
    const { server, cache } = await setUp();
    server.lfsRedirect = redirect;
    server.sendLinked = false;
    await assert.rejects(resolveModelFiles("gpt2"), { code: "bad-response", message: /sent no sha256 \(X-Linked-Etag\) for `model\.safetensors`.*nothing was stored/ });
    assert.ok(!server.requests.some((r) => r.method === "GET" && r.path.includes("/lfs/")), `${redirect}: the bytes were never fetched`);
    assert.ok(!fs.existsSync(path.join(repoDir(cache), "snapshots")) || !fs.readdirSync(path.join(repoDir(cache), "snapshots"), { recursive: true }).some((f) => String(f).endsWith("model.safetensors")));
  }
});

test("a small file changed without changing its size fails its git blob id and is not kept", async () => {
  const { server, cache } = await setUp();
  server.corruptSmall = "config.json";
  await assert.rejects(resolveModelFiles("gpt2"), { code: "checksum", message: /`config\.json`.*its git blob id is [0-9a-f]{40}, but the Hub announced [0-9a-f]{40} \(ETag\)/ });
  assert.ok(!blobs(cache).some((name) => name.endsWith(".incomplete")), "the corrupt download was deleted");
});

test("a cached small file damaged on disk is fetched again, not reused", async () => {
  const { cache } = await setUp();
  const first = await resolveModelFiles("gpt2");
  const blob = fs.realpathSync(first.config);
  const bytes = fs.readFileSync(blob);
  bytes[10] ^= 0x01;
  fs.writeFileSync(blob, bytes);
  const again = await resolveModelFiles("gpt2");
  assert.equal(fs.readFileSync(again.config, "utf8"), fs.readFileSync(path.join(source, "config.json"), "utf8"));
  // Offline, a damaged file makes the model count as not cached, with the command that fetches it.
  fs.writeFileSync(fs.realpathSync(again.config), bytes);
  process.env.HF_HUB_OFFLINE = "1";
  try {
    await assert.rejects(resolveModelFiles("gpt2"), { code: "offline", message: /is not in the Hugging Face cache.*npx gpt2-lab download gpt2/ });
  } finally {
    delete process.env.HF_HUB_OFFLINE;
  }
  assert.ok(fs.existsSync(cache));
});

test("a token that is not one clean line is refused before it is sent, and never shown", async () => {
  const { server } = await setUp();
  const secret = "hf_abcdefghijklmnop";
  const cases: [string, RegExp][] = [
    [`${secret}\n${secret}`, /contains a line break \(at character 20 of 39\)/],
    [`${secret}\u0007x`, /contains a control character/],
    [`${secret}é`, /contains a character that is not ASCII/],
    [`hf_ab cd`, /contains a space/],
  ];
  for (const [token, problem] of cases) {
    process.env.HF_TOKEN = token;
    await assert.rejects(resolveModelFiles("gpt2"), (error: Error) => {
      assert.match(error.message, problem);
      assert.match(error.message, /from the environment variable HF_TOKEN/);
      assert.ok(!error.message.includes("abcdefghijklmnop") && !error.message.includes("hf_ab"), error.message);
      return true;
    });
  }
  delete process.env.HF_TOKEN;
  // The same from the file `hf auth login` writes.
  const tokenFile = path.join(scratch, "token-file");
  fs.writeFileSync(tokenFile, `${secret}\u0000\n`);
  process.env.HF_TOKEN_PATH = tokenFile;
  try {
    await assert.rejects(resolveModelFiles("gpt2"), { message: new RegExp(`token file ${tokenFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} contains a control character`) });
  } finally {
    delete process.env.HF_TOKEN_PATH;
  }
  assert.equal(server.requests.filter((r) => r.authorization).length, 0, "no bad token reached the server");
});

test("a user name and password in the endpoint are refused and never shown", async () => {
  const { server } = await setUp();
  const withPassword = server.url.replace("http://", "http://alice:s3cret-pw@");
  for (const endpoint of [withPassword, `${withPassword}/`]) {
    await assert.rejects(resolveModelFiles("gpt2", { endpoint }), (error: Error) => {
      assert.match(error.message, /includes a user name or password/);
      assert.ok(!error.message.includes("s3cret") && !error.message.includes("alice"), error.message);
      return true;
    });
  }
  process.env.HF_ENDPOINT = withPassword;
  await assert.rejects(resolveModelFiles("gpt2"), (error: Error) => !error.message.includes("s3cret"));
});

test("a redirect to file:, data: or another scheme is refused at once, from the Hub or from the CDN", async () => {
  const cases: [string, (server: Awaited<ReturnType<typeof setUp>>["server"]) => void, RegExp][] = [
    ["the Hub to file:", (server) => (server.lfsLocation = "file:///etc/passwd"), /redirected `model\.safetensors` of openai-community\/gpt2 to a `file:` address; only http and https redirects are followed, so nothing was fetched/],
    ["the Hub to data:", (server) => (server.lfsLocation = "data:application/octet-stream;base64,AAAA"), /to a `data:` address/],
    ["the CDN to file:", (server) => (server.cdnRedirect = "file:///etc/passwd"), /redirected `model\.safetensors` of openai-community\/gpt2 to an address that is not http or https/],
  ];
  for (const [what, fault, message] of cases) {
    const { server, cache } = await setUp();
    fault(server);
    const started = Date.now();
    await assert.rejects(resolveModelFiles("gpt2"), (error: ModelFilesError) => {
      assert.equal(error.code, "bad-response", what);
      assert.match(error.message, message, what);
      assert.doesNotMatch(error.message, /incomplete|resumes/, what);
      return true;
    });
    assert.ok(Date.now() - started < 2000, `${what}: refused at once, not after retries (${Date.now() - started} ms)`);
    const cdnGets = server.requests.filter((r) => r.server === "cdn").length;
    assert.ok(cdnGets <= 1, `${what}: one request to the CDN at most, no retries (${cdnGets})`);
    assert.ok(!blobs(cache).some((name) => name.endsWith(".incomplete")), `${what}: nothing left in the cache`);
  }
});

test("an empty file (a 0-byte tokenizer_config.json) is fetched, verified and cached, and found again", async () => {
  await closeServer((await setUp()).server); // only the environment: a fresh cache, nothing real
  const dir = path.join(scratch, "empty-config-source");
  fs.cpSync(source, dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "tokenizer_config.json"), "");
  const server = await startHubServer({ [GPT2]: dir });
  process.env.HF_ENDPOINT = server.url;
  try {
    for (const run of ["first", "second"]) {
      const files = await resolveModelFiles("gpt2");
      const empty = path.join(files.dir, "tokenizer_config.json");
      assert.equal(fs.statSync(empty).size, 0, run);
      // git's blob id of an empty file: the ETag the Hub announced, checked.
      assert.equal(path.basename(fs.realpathSync(empty)), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391", run);
    }
  } finally {
    await server.close();
  }
});

/** Every file and link under `dir`, as paths relative to it. */
const tree = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).map(String).sort() : []);

test("names from a server's listing that could leave the snapshot are refused before anything is fetched", async () => {
  const hostile: unknown[] = ["onnx/decoder_model_merged.onnx_data/../../../../../escaped", "../escaped", "/tmp/escaped", "onnx\\escaped", "onnx//x", "./x", "", 5, null];
  for (const name of hostile) {
    const { server, cache } = await setUp();
    server.extraSiblings = [{ rfilename: name }];
    const outside = tree(path.dirname(cache));
    await assert.rejects(resolveModelFiles(ONNX_REPO, { onnx: true }), (error: ModelFilesError) => {
      assert.equal(error.code, "bad-response", String(name));
      assert.ok(error.message.startsWith(`${ONNX_REPO}: the file name ${JSON.stringify(name)} is not a plain relative path`), error.message);
      return true;
    });
    assert.ok(!server.requests.some((r) => r.path.includes("/resolve/")), `${JSON.stringify(name)}: nothing was fetched`);
    assert.deepEqual(tree(path.dirname(cache)).filter((f) => !f.startsWith(path.basename(cache))), outside.filter((f) => !f.startsWith(path.basename(cache))), "nothing written beside the cache");
    assert.ok(!tree(cache).some((f) => f.includes("snapshots")), `${JSON.stringify(name)}: no snapshot made`);
  }
});

test("a revision that could leave refs/ is refused before any request, online and offline", async () => {
  for (const offline of [false, true]) {
    const { server } = await setUp();
    if (offline) process.env.HF_HUB_OFFLINE = "1";
    try {
      for (const revision of ["../../../escaped", "refs/../../x", "/abs"]) {
        await assert.rejects(resolveModelFiles("gpt2", { revision }), { name: "RangeError", message: /Expected `revision` to be a branch, tag or commit id/ });
      }
      assert.equal(server.requests.length, 0, "no request was made");
    } finally {
      delete process.env.HF_HUB_OFFLINE;
    }
  }
});

test("a redirect whose ETag could leave blobs/ is refused, and nothing is fetched", async () => {
  const { server, cache } = await setUp();
  server.lfsEtag = "../../../escaped";
  await assert.rejects(resolveModelFiles("gpt2"), { code: "bad-response", message: /sent no usable ETag or size for `model\.safetensors`/ });
  assert.ok(!server.requests.some((r) => r.server === "cdn"), "the bytes were never fetched");
  assert.ok(!fs.existsSync(path.join(path.dirname(cache), "escaped")));
});

test("a link planted at a partial download is replaced, never written through", async () => {
  for (const resumed of [false, true]) {
    const { server, cache } = await setUp();
    const victim = path.join(scratch, `victim-${resumed}.txt`);
    // A victim shorter than the file makes a resume (append) look possible; a longer one, a fresh start (truncate).
    const before = resumed ? "precious" : "precious ".repeat(1_000_000);
    fs.writeFileSync(victim, before);
    const blobs = path.join(repoDir(cache), "blobs");
    fs.mkdirSync(blobs, { recursive: true });
    fs.symlinkSync(victim, path.join(blobs, `${weightsSha()}.incomplete`));
    const files = await resolveModelFiles("gpt2");
    assert.equal(fs.readFileSync(victim, "utf8"), before, "the file the link pointed to is unchanged");
    assert.equal(sha256(files.weights), weightsSha(), "the download is whole");
    assert.ok(server.requests.some((r) => r.server === "cdn" && r.range === undefined), "fetched from the start, not resumed from the victim's size");
  }
});

test("a stalled transfer is abandoned after HF_HUB_DOWNLOAD_TIMEOUT and resumed with a Range request", async () => {
  const { server } = await setUp();
  process.env.HF_HUB_DOWNLOAD_TIMEOUT = "0.5";
  try {
    server.stall = { file: "model.safetensors", afterBytes: 300_000, once: true };
    const started = Date.now();
    const files = await resolveModelFiles("gpt2");
    assert.equal(sha256(files.weights), weightsSha());
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.ok(server.requests.some((r) => r.server === "cdn" && r.range === "bytes=300000-"), "resumed from the bytes received");
  } finally {
    delete process.env.HF_HUB_DOWNLOAD_TIMEOUT;
  }
});

test("a transfer that stalls every time ends with the file, the bytes received and what to do", async () => {
  const { server } = await setUp();
  process.env.HF_HUB_DOWNLOAD_TIMEOUT = "0.5";
  try {
    server.stall = { file: "model.safetensors", afterBytes: 200_000, once: false };
    const started = Date.now();
    await assert.rejects(resolveModelFiles("gpt2"), {
      code: "network",
      message: /Downloading `model\.safetensors` of openai-community\/gpt2 failed 5 times \(last: no data for 0\.5 s after 1000000 of \d+ bytes \(HF_HUB_DOWNLOAD_TIMEOUT=0\.5\)\)\. Run the same command again: it resumes from the 1000000 of \d+ bytes kept/,
    });
    // Each try resumes and gets 200,000 bytes more: 1,000,000 after five. Five waits of 0.5 s and pauses of 0.5 + 1 + 1.5 + 2 s between the tries.
    assert.ok(Date.now() - started < 12_000, `took ${Date.now() - started} ms`);
  } finally {
    delete process.env.HF_HUB_DOWNLOAD_TIMEOUT;
  }
});

test("HTTP 429 is waited out as Retry-After asks, on the API, on HEAD and on the file, in seconds or as a date", async () => {
  const cases: ["api" | "head" | "cdn", () => string][] = [
    ["api", () => "1"],
    ["head", () => "1"],
    ["cdn", () => new Date(Date.now() + 2000).toUTCString()], // an HTTP date has whole seconds: 1–2 s from now
  ];
  for (const [where, retryAfter] of cases) {
    const { server } = await setUp();
    server.rateLimit = { where, remaining: 1, retryAfter: retryAfter() };
    const started = Date.now();
    const files = await resolveModelFiles("gpt2");
    const took = Date.now() - started;
    assert.equal(sha256(files.weights), weightsSha(), where);
    assert.equal(server.rateLimit.remaining, 0, `${where}: the limited request was made`);
    assert.ok(took >= 900 && took < 6000, `${where}: waited about as asked (${took} ms)`);
  }
});

test("HTTP 429 asking for more than the bound ends at once, saying the Hub is rate-limiting and for how long", async () => {
  const { server, cache } = await setUp();
  server.rateLimit = { where: "cdn", remaining: 100, retryAfter: "3600" };
  const started = Date.now();
  await assert.rejects(resolveModelFiles("gpt2"), {
    code: "network",
    message: /is rate-limiting requests \(HTTP 429\) and asked to wait 3600 s more, past the 60 s gpt2-lab waits\. Run the command again later/,
  });
  assert.ok(Date.now() - started < 2000, "no wait at all");
  assert.ok(!blobs(cache).some((name) => name.endsWith(".incomplete") && fs.statSync(path.join(repoDir(cache), "blobs", name)).size > 0));
});
