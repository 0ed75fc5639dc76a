// The command line as a user meets it: bad flags are refused with the flag's own name and exit code
// 2 before anything is downloaded (the Hub here is a closed port, so a download attempt would show),
// sizes that cannot fit are refused, and output cut short by `| head -1` ends quietly.
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
