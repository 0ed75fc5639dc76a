// Hugging Face transformers as a reference, from a test: the environment's python (made on first
// use by scripts/python-env.sh from requirements/reference.txt) and one request to
// transformers-reference.py. Any failure to make or run it throws, so the test fails.
import { execFileSync } from "node:child_process";
import * as path from "node:path";

const root = path.resolve(__dirname, "../../..");

/** The reference environment's python, made on first use (about a minute). */
export function referencePython(): string {
  const script = `source "${root}/scripts/python-env.sh" && gpt2_lab_reference_python`;
  return execFileSync("bash", ["-c", script], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

/** Sends one JSON request to transformers-reference.py and returns its JSON answer. */
export function askReference(python: string, request: object): any {
  const out = execFileSync(python, [path.join(root, "test/reference/transformers-reference.py")], {
    input: JSON.stringify(request),
    encoding: "utf8",
    maxBuffer: 1 << 30,
    stdio: ["pipe", "pipe", "inherit"],
  });
  return JSON.parse(out);
}

/** A float32 array sent back as base64. */
export function floats(base64: string): Float32Array {
  return new Float32Array(Buffer.from(base64, "base64").buffer.slice(0));
}
