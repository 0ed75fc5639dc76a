// Tests for lib/hub/cache.ts's listing and the CLI's `download` and `models`, on caches filled from
// the local Hub stand-in (fixtures.ts).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { listCachedModels } from "../../lib/hub/cache";
import { resolveModelFiles } from "../../lib/hub/resolve";
import { BIN, GPT2, repoDir, run, setUp, source } from "./fixtures";

test("listCachedModels reports repos, revisions and sizes", async () => {
  const { server, cache } = await setUp();
  assert.deepEqual(await listCachedModels(), []);
  await resolveModelFiles("gpt2");
  fs.writeFileSync(path.join(repoDir(cache), "blobs", `${"0".repeat(64)}.incomplete`), Buffer.alloc(1234));
  const names = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"];
  const size = names.reduce((sum, name) => sum + fs.statSync(path.join(source, name)).size, 0);
  const commit = server.commitOf(GPT2);
  assert.deepEqual(await listCachedModels({ cacheDir: cache }), [
    {
      repo: GPT2,
      path: repoDir(cache),
      sizeBytes: size,
      partialBytes: 1234,
      revisions: [{ commit, refs: ["main"], files: names, path: path.join(repoDir(cache), "snapshots", commit) }],
    },
  ]);
});

test("the CLI downloads with `download` and lists with `models`", async () => {
  const { server, cache } = await setUp();
  const env = { ...process.env, HF_HUB_CACHE: cache, HF_ENDPOINT: server.url };
  const download = await run(process.execPath, [BIN, "download", "gpt2"], { env });
  assert.match(download.stdout, new RegExp(`^openai-community/gpt2 @ ${server.commitOf(GPT2)}\\n`));
  assert.match(download.stdout, /model\.safetensors +13\.\d MB/);
  const models = await run(process.execPath, [BIN, "models"], { env });
  assert.match(models.stdout, /openai-community\/gpt2  \d+\.\d MB\n  [0-9a-f]{12} \(main\)  4 files, ready\n/);
  await assert.rejects(run(process.execPath, [BIN, "download"], { env }), { code: 2 });
});
