// The Hub tests' shared setting: a scratch folder, an environment that reaches nothing real (no
// saved token, no real cache, no real Hub), the source folders the local Hub stand-in
// (hub-server.ts) serves, and one stand-in and one fresh HF_HUB_CACHE per test (`setUp`).
import { before, after } from "node:test";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { makeModel } from "../../lib/weights/make-model";
import { startHubServer, type HubServer } from "./hub-server";

export const run = promisify(execFile);
export const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "gpt2-lab-hub-test-"));
// Nothing from the real environment leaks in: no saved token, no real cache, no real Hub.
process.env.HF_HOME = path.join(scratch, "hf-home");
process.env.HF_HUB_CACHE = path.join(scratch, "default-cache");
process.env.HF_ENDPOINT = "http://127.0.0.1:9";
for (const name of ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE"]) delete process.env[name];

export const GPT2 = "openai-community/gpt2";
export const ONNX_REPO = "someone/gpt2-onnx";
export const source = path.join(scratch, "source");
export const onnxSource = path.join(scratch, "onnx-source");
export const HUB_JS = path.join(__dirname, "..", "..", "lib", "hub", "resolve.js");
export const BIN = path.join(__dirname, "..", "..", "..", "bin", "gpt2-lab.js");
const servers: HubServer[] = [];
let caches = 0;

export const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
before(() => {
  makeModel({ shape: "tiny", seed: 7, out: source });
  // An ONNX-only repo laid out like Xenova/gpt2: no model.safetensors, the graph under onnx/.
  fs.mkdirSync(path.join(onnxSource, "onnx"), { recursive: true });
  for (const file of ["config.json", "tokenizer.json"]) fs.copyFileSync(path.join(source, file), path.join(onnxSource, file));
  fs.writeFileSync(path.join(onnxSource, "onnx", "decoder_model_merged.onnx"), Buffer.alloc(300_000, 7));
  fs.writeFileSync(path.join(onnxSource, "onnx", "decoder_model_merged.onnx_data"), Buffer.alloc(500_000, 9));
  fs.writeFileSync(path.join(onnxSource, "onnx", "decoder_model.onnx"), Buffer.alloc(1000, 1));
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** A running stand-in with the tiny model as openai-community/gpt2, and env pointing at it. */
export async function setUp(): Promise<{ server: HubServer; cache: string }> {
  const server = await startHubServer({ [GPT2]: source, [ONNX_REPO]: onnxSource });
  servers.push(server);
  const cache = path.join(scratch, `cache-${++caches}`);
  process.env.HF_HUB_CACHE = cache;
  process.env.HF_ENDPOINT = server.url;
  delete process.env.HF_HUB_OFFLINE;
  delete process.env.HF_TOKEN;
  return { server, cache };
}

/** Stops a stand-in before the end of the tests (the others are stopped after them). */
export async function closeServer(server: HubServer): Promise<void> {
  await server.close();
  servers.splice(servers.indexOf(server), 1);
}

export const repoDir = (cache: string) => path.join(cache, "models--openai-community--gpt2");
export const weightsSha = () => sha256(path.join(source, "model.safetensors"));

/** Resolves `gpt2` in a child process with `env` added; returns its JSON report. */
export async function resolveInChild(env: Record<string, string>, shell = ""): Promise<{ files?: { weights: string }; error?: { code: string; message: string } }> {
  const script =
    // With a file size limit the kernel sends SIGXFSZ, which kills by default; ignoring it makes
    // the write fail with EFBIG instead, as a full disk fails with ENOSPC.
    `process.on("SIGXFSZ", () => {}); require(${JSON.stringify(HUB_JS)}).resolveModelFiles("gpt2")` +
    `.then((files) => console.log(JSON.stringify({ files })), (e) => console.log(JSON.stringify({ error: { code: e.code, message: e.message } })))`;
  const command = `${shell}exec "${process.execPath}" -e '${script}'`;
  const { stdout } = await run("bash", ["-c", command], { env: { ...process.env, ...env } });
  return JSON.parse(stdout);
}

