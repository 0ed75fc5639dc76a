// The command line as a user meets it: bad flags are refused with the flag's own name and exit code
// 2 before anything is downloaded (the Hub here is a closed port, so a download attempt would show),
// sizes that cannot fit are refused, output cut short by `| head -1` ends quietly, and output to a full
// disk ends with one line.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, test } from "node:test";
import { promisify } from "node:util";
import { makeModel } from "../../lib/weights/make-model";
import { scratchFolder } from "../scratch";

const run = promisify(execFile);
const BIN = path.join(__dirname, "..", "..", "..", "bin", "gpt2-lab.js");
const tmp = scratchFolder("cli");
const tiny = path.join(tmp, "tiny");
const env: NodeJS.ProcessEnv = { ...process.env, HF_HUB_CACHE: path.join(tmp, "hub"), HF_ENDPOINT: "http://127.0.0.1:9", GPT2_LAB_CACHE: path.join(tmp, "cache") };
delete env.HF_HUB_OFFLINE;

before(() => makeModel({ shape: "tiny", seed: 6, out: tiny }));

/** Runs the CLI and returns its exit code and output. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env, maxBuffer: 64 * 1024 * 1024 });
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
    [["--num-beams", "0"], /Expected --num-beams to be a positive integer, got `0`/],
    [["--num-beams", "2", "--num-return-sequences", "3"], /Expected --num-return-sequences to be at most --num-beams \(2\), got 3/],
    [["--repetition-penalty", "0"], /Expected --repetition-penalty to be a finite number > 0/],
    [["--repetition-penalty=-1.2"], /Expected --repetition-penalty to be a finite number > 0/],
    [["--do-sample", "--min-p", "1.5"], /Expected --min-p to be a number in \[0, 1\]/],
    [["--do-sample", "--min-p=-0.1"], /Expected --min-p to be a number in \[0, 1\]/],
    [["--num-beams", "2", "--early-stopping", "soon"], /--early-stopping must be true, false or never, got `soon`/],
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

test("long prompts come from a file or standard input; a long --prompt is refused before onnxruntime starts", async () => {
  const long = "hello world ".repeat(3000); // 36 kB: onnxruntime would overflow its stack reading the command line
  const refused = await cli("generate", "--model", tiny, "--prompt", long, "--max-new-tokens", "1");
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /--prompt is 36000 bytes, over the 16384 this command takes: onnxruntime crashes on a command line of about 25 kB\. Put the prompt in a file and pass --prompt-file PATH, or pipe it in with --prompt-file -/);
  const file = path.join(tmp, "long-prompt.txt");
  fs.writeFileSync(file, long);
  // From a file, the prompt reaches the model, which says it is past its 128-token context.
  const fromFile = await cli("generate", "--model", tiny, "--prompt-file", file, "--max-new-tokens", "1");
  assert.equal(fromFile.code, 2, fromFile.stderr);
  assert.match(fromFile.stderr, /The prompt is 6001 tokens and --max-new-tokens is 1, 6002 in all, but this model's context is 128 tokens/);
  for (const command of ["generate", "inspect"]) {
    const inspected = await cli(command, "--model", tiny, "--prompt-file", file);
    assert.ok(inspected.code !== 0 && !inspected.stderr.includes("Segmentation"), `${command}: ${inspected.code}`);
  }
  // A short prompt gives the same from --prompt, from a file and from standard input.
  fs.writeFileSync(file, "Hello there");
  const flags = ["--model", tiny, "--max-new-tokens", "3", "--json"];
  const direct = await cli("generate", "--prompt", "Hello there", ...flags);
  assert.equal((await cli("generate", "--prompt-file", file, ...flags)).stdout, direct.stdout);
  const piped = await run("bash", ["-c", `printf 'Hello there' | "${process.execPath}" "${BIN}" generate --prompt-file - ${flags.map((f) => `"${f}"`).join(" ")}`], { env });
  assert.equal(piped.stdout, direct.stdout);
  assert.equal(JSON.parse(direct.stdout).promptIds.length, 2);
  const both = await cli("generate", "--prompt", "a", "--prompt-file", file);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /give --prompt or --prompt-file, not both/);
  const missing = await cli("inspect", "--prompt-file", path.join(tmp, "nope.txt"));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--prompt-file: cannot read .*nope\.txt \(ENOENT\)/);
});

test("a full trace larger than one JavaScript string (about 512 MB) is written whole, as valid JSON", async () => {
  const file = path.join(tmp, "full-trace.json");
  const command = `"${process.execPath}" "${BIN}" generate --model "${tiny}" --prompt Hi --json --trace full --num-samples 12 --max-new-tokens 50 --do-sample > "${file}"; echo "exit $?"`;
  try {
    const { stdout, stderr } = await run("bash", ["-c", command], { env });
    assert.equal(stdout.trim(), "exit 0", stderr);
    const size = fs.statSync(file).size;
    assert.ok(size > 2 ** 29, `${size} bytes: more than V8's longest string, so it was never one string`);
    const handle = fs.openSync(file, "r");
    const head = Buffer.alloc(40);
    const tail = Buffer.alloc(40);
    fs.readSync(handle, head, 0, 40, 0);
    fs.readSync(handle, tail, 0, 40, size - 40);
    fs.closeSync(handle);
    assert.match(head.toString(), /^\{"promptIds":\[17250\],"samples":\[\{"ids":\[/);
    assert.match(tail.toString(), /\]\}\]\]\}\n$/);
  } finally {
    fs.rmSync(file, { force: true });
  }
  // A small one parses, with steps[step][sample].
  const small = await cli("generate", "--model", tiny, "--prompt", "Hi", "--json", "--trace", "full", "--num-samples", "2", "--max-new-tokens", "3", "--do-sample");
  const json = JSON.parse(small.stdout);
  assert.equal(json.steps.length, 3);
  assert.equal(json.steps[2].length, 2);
  assert.equal(json.steps[2][1].logits.length, 50257);
  assert.equal(json.steps[2][1].token, json.samples[1].ids[2]);
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

test("beam search from the command line: JSON with Hugging Face's scores, best first", async () => {
  const { code, stdout, stderr } = await cli("generate", "--model", tiny, "--prompt", "Hi", "--num-beams", "3", "--num-return-sequences", "3", "--max-new-tokens", "5", "--json");
  assert.equal(code, 0, stderr);
  const { samples } = JSON.parse(stdout);
  assert.equal(samples.length, 3);
  assert.ok(samples.every((s: { score: number; ids: number[] }) => typeof s.score === "number" && s.ids.length > 0));
  assert.ok(samples[0].score >= samples[1].score && samples[1].score >= samples[2].score);
});

test("attribute and inspect --ablate-head: JSON that adds up, and heads out of range refused", async () => {
  const attributed = await cli("attribute", "--model", tiny, "--prompt", "The cat sat", "--json");
  assert.equal(attributed.code, 0, attributed.stderr);
  const { logit, parts } = JSON.parse(attributed.stdout);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const total = parts.embeddings + sum(parts.heads.flat()) + sum(parts.attentionBias) + sum(parts.mlps) + parts.finalBias;
  assert.ok(Math.abs(total - logit) < 1e-3, `${total} against ${logit}`);
  const ablated = await cli("inspect", "--model", tiny, "--prompt", "The cat sat", "--ablate-head", "0.1", "--ablate-head", "1.3", "--json");
  assert.equal(ablated.code, 0, ablated.stderr);
  const result = JSON.parse(ablated.stdout);
  assert.equal(result.logits.length, 50257);
  assert.ok(result.next.prob > 0 && result.next.prob <= 1);
  const bad = await cli("inspect", "--model", tiny, "--prompt", "The cat sat", "--ablate-head", "2.0");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /the layer of --ablate-head 2\.0 to be an integer in \[0, 1\] \(this model has 2 layers\)/);
  const twoTokens = await cli("attribute", "--model", tiny, "--prompt", "The cat sat", "--target", " on the");
  assert.equal(twoTokens.code, 2);
  assert.match(twoTokens.stderr, /--target.*exactly one token/);
});
