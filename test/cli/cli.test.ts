// The command line as a user meets it: bad flags are refused with the flag's own name and exit code
// 2 before anything is downloaded (the Hub here is a closed port, so a download attempt would show),
// sizes that cannot fit are refused, output cut short by `| head -1` ends quietly, and output to a full
// disk ends with one line.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { before, test } from "node:test";
import { promisify } from "node:util";
import { makeModel } from "../../lib/weights/make-model";

const run = promisify(execFile);
const BIN = path.join(__dirname, "..", "..", "..", "bin", "gpt2-lab.js");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gpt2-lab-cli-"));
const tiny = path.join(tmp, "tiny");
const env: NodeJS.ProcessEnv = { ...process.env, HF_HUB_CACHE: path.join(tmp, "hub"), HF_ENDPOINT: "http://127.0.0.1:9", GPT2_LAB_CACHE: path.join(tmp, "cache") };
delete env.HF_HUB_OFFLINE;

before(() => makeModel({ shape: "tiny", seed: 6, out: tiny }));

/** Runs the CLI and returns its exit code and output. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

test("bad flags exit 2 with the flag's name, before any download of the model", async () => {
  const cases: [string[], RegExp][] = [
    [["--seed", "abc"], /--seed must be an integer, got `abc`/],
    [["--seed", "4294967296"], /Expected --seed to be an integer in \[0, 4294967295\], got `4294967296`/],
    [["--max-new-tokens", "0"], /Expected --max-new-tokens to be a positive integer, got `0`/],
    [["--do-sample", "--top-k", "1.5"], /Expected --top-k to be a non-negative integer, got `1\.5`/],
    [["--do-sample", "--top-p", "2"], /Expected --top-p to be a number in \(0, 1\]/],
    [["--do-sample", "--temperature", "0"], /Expected --temperature to be a finite number > 0/],
    [["--dtype", "q4"], /--dtype must be one of fp32, fp16, int8, got `q4`/],
  ];
  for (const [flags, message] of cases) {
    const { code, stderr } = await cli("generate", "--model", "gpt2", "--prompt", "Hi", ...flags);
    assert.equal(code, 2, `${flags.join(" ")}: ${stderr}`);
    assert.match(stderr, message);
    assert.doesNotMatch(stderr, /maxNewTokens|topK|topP|cannot be reached|127\.0\.0\.1/, "named as a flag, and nothing was fetched");
  }
});

test("a sample count that cannot fit is refused as a usage error", async () => {
  const { code, stderr } = await cli("generate", "--model", tiny, "--num-samples", "100000", "--max-new-tokens", "2");
  assert.equal(code, 2, stderr);
  assert.match(stderr, /100,000 samples \(1 prompt × --num-samples\) at 3 positions need buffers of 20\.1 GB, over Node's limit/);
});

test("`generate … | head -1` ends quietly when the reader stops early", async () => {
  const command = `"${process.execPath}" "${BIN}" generate --model "${tiny}" --prompt Hi --num-samples 1500 --max-new-tokens 2 | head -1 > /dev/null; echo "exit \${PIPESTATUS[0]}"`;
  const { stdout, stderr } = await run("bash", ["-c", command], { env });
  assert.equal(stdout.trim(), "exit 0");
  assert.equal(stderr, "");
});

test("output to a full disk (`> /dev/full`) ends with one line and exit 1", async () => {
  const command = `"${process.execPath}" "${BIN}" generate --model "${tiny}" --prompt Hi --max-new-tokens 4 > /dev/full; echo "exit $?"`;
  const { stdout, stderr } = await run("bash", ["-c", command], { env });
  assert.equal(stdout.trim(), "exit 1");
  assert.equal(stderr, "gpt2-lab: could not write the output (ENOSPC: no space left on the device).\n");
});

test("inspect --json prints tokens, ids, attentions [layer][head][query][key] and the lens [layer][position]", async () => {
  const { code, stdout } = await cli("inspect", "--model", tiny, "--prompt", "When using LLMs,", "--top", "3", "--json");
  assert.equal(code, 0);
  const out = JSON.parse(stdout);
  assert.deepEqual(out.tokens, ["When", " using", " LL", "Ms", ","]);
  assert.deepEqual(out.ids, [2215, 1262, 27140, 10128, 11]);
  // The tiny shape: 2 layers of 4 heads.
  assert.deepEqual([out.attentions.length, out.attentions[0].length, out.attentions[0][0].length, out.attentions[0][0][4].length], [2, 4, 5, 5]);
  assert.deepEqual(out.attentions[1][2][0].slice(1), [0, 0, 0, 0], "the first query sees only itself");
  assert.equal(out.lens.length, 3, "n_layer + 1 layers, the embeddings first");
  const entry = out.lens[2][4];
  assert.equal(entry.top.length, 3);
  assert.equal(entry.id, entry.top[0].id);
  assert.ok(entry.prob > 0 && entry.prob <= 1);
  assert.equal(entry.id, out.next.id, "the last layer at the last position is the model's choice");
});

test("inspect without --json prints the lens as a table, and --top 0 is refused before loading", async () => {
  const table = await cli("inspect", "--model", tiny, "--prompt", "When using LLMs,");
  assert.equal(table.code, 0);
  const lines = table.stdout.trim().split("\n");
  assert.match(lines[1], /^layer\s+When\s+␣using\s+␣LL\s+Ms\s+,/);
  assert.deepEqual(lines.slice(2, 5).map((l) => l.trim().split(/\s+/)[0]), ["0", "1", "2"]);
  assert.match(lines[5], /^Next token: .* layer 2 is the model's output\.$/);
  const bad = await cli("inspect", "--model", "gpt2", "--prompt", "Hi", "--top", "0");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--top must be an integer in \[1, 50257\], got `0`/);
});
