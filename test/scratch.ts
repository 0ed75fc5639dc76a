// What the test files share: a scratch folder of their own, removed when the file's tests end, with
// the converted-model cache (GPT2_LAB_CACHE) inside it so that no test reads or writes the user's;
// and a random GPT-2 made from a seed and loaded on the CPU.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after } from "node:test";
import { loadModel } from "../lib/model/load";
import type { Model } from "../lib/model/model";
import { makeModel, type MakeModelOptions } from "../lib/weights/make-model";

/** A fresh folder gpt2-lab-`name`-… under the system's temporary folder, removed after the calling file's tests. */
export function scratchFolder(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gpt2-lab-${name}-`));
  process.env.GPT2_LAB_CACHE = path.join(dir, "cache");
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A random GPT-2 written to `options.out` (see makeModel) and loaded on the CPU. */
export async function randomModel(options: MakeModelOptions): Promise<Model> {
  makeModel(options);
  return loadModel(options.out, { device: "cpu" });
}
