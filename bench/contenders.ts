// The two libraries under test, behind one small interface: gpt2-lab (`loadModel` + `generate`)
// and transformers.js (`AutoModelForCausalLM.from_pretrained` + `model.generate`), both loading
// the same weights from local folders with the network off. transformers.js gets an HF-style
// folder whose onnx/model.onnx (or model_quantized.onnx for its `q8` dtype) is our converted graph.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Device } from "../lib/model/device";
import { generate } from "../lib/generate/generate";
import { loadModel } from "../lib/model/load";
import type { Model } from "../lib/model/model";
import type { ConvertedModel } from "../lib/onnx/convert";
import type { WeightDtype } from "../lib/onnx/gpt2-graph";

/** One generation job, in the course's terms. */
export interface Workload {
  name: string;
  prompt: string;
  numSamples: number;
  maxNewTokens: number;
  doSample: boolean;
  topK: number;
  temperature: number;
  trace: "none" | "top";
}

/** A library, loaded with one set of options, that runs workloads. */
export interface Contender {
  /** Short label, e.g. `gpt2-lab fp32`. */
  label: string;
  load(): Promise<void>;
  /** Runs `w` once; returns the number of new tokens produced. `onStep` is called as each step's tokens appear. */
  run(w: Workload, seed: number, onStep?: (step: number) => void): Promise<number>;
  dispose(): Promise<void>;
}

/** gpt2-lab on `device` with `dtype` weights (converted beforehand, so loading reads the cache). */
export function gpt2Lab(dir: string, device: Device, dtype: WeightDtype): Contender {
  let model: Model | undefined;
  return {
    label: `gpt2-lab ${dtype}`,
    async load() {
      model = await loadModel(dir, { device, dtype });
    },
    async run(w, seed, onStep) {
      const { numSamples, maxNewTokens, doSample, topK, temperature, trace } = w;
      let last = -1;
      const onToken = onStep && ((event: { step: number }) => event.step !== last && onStep((last = event.step)));
      const options = doSample ? { numSamples, maxNewTokens, doSample, topK, temperature, trace, seed, onToken } : { numSamples, maxNewTokens, trace, onToken };
      const result = await generate(model!, w.prompt, options);
      return result.samples.reduce((sum, s) => sum + s.ids.length, 0);
    },
    async dispose() {
      await model?.dispose();
    },
  };
}

/**
 * The folder transformers.js loads: config.json and the tokenizer files from `modelDir`, and our
 * converted graph linked as onnx/<onnxName> beside its weights file (onnxruntime resolves
 * model.onnx.data next to the path it was given).
 */
export function transformersJsFolder(modelDir: string, converted: Pick<ConvertedModel, "dir" | "model">, out: string, onnxName: string): string {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(path.join(out, "onnx"), { recursive: true });
  for (const file of ["config.json", "tokenizer.json", "tokenizer_config.json"]) {
    fs.copyFileSync(path.join(modelDir, file), path.join(out, file));
  }
  fs.symlinkSync(converted.model, path.join(out, "onnx", onnxName));
  fs.symlinkSync(path.join(converted.dir, "model.onnx.data"), path.join(out, "onnx", "model.onnx.data"));
  return out;
}

// The parts of transformers.js used here (it is loaded with import(), so only when benchmarked).
interface TjsTensor {
  dims: number[];
}
interface TjsModel {
  generate(options: Record<string, unknown>): Promise<TjsTensor>;
  dispose(): Promise<unknown>;
}
type TjsTokenizer = (texts: string[], options: { padding: boolean }) => { input_ids: TjsTensor; attention_mask: TjsTensor };

/**
 * transformers.js on `device`, loading onnx/model.onnx (`fp32`), model_fp16.onnx or model_quantized.onnx
 * (`q8`) from `folder`; with `sessionOptions`, those onnxruntime settings instead of its defaults;
 * `note` is added to its label.
 */
export function transformersJs(
  folder: string,
  device: "cpu" | "cuda" | "webgpu",
  dtype: "fp32" | "fp16" | "q8",
  sessionOptions?: Record<string, unknown>,
  note?: string,
): Contender {
  let model: TjsModel | undefined;
  let tokenizer: TjsTokenizer | undefined;
  return {
    label: `transformers.js ${dtype}${note ? ` (${note})` : ""}`,
    async load() {
      const tjs = await import("@huggingface/transformers");
      tjs.env.allowRemoteModels = false;
      tjs.env.localModelPath = path.dirname(folder);
      const name = path.basename(folder);
      tokenizer = (await tjs.AutoTokenizer.from_pretrained(name)) as unknown as TjsTokenizer;
      const options = { dtype, device, ...(sessionOptions ? { session_options: sessionOptions } : {}) };
      model = (await tjs.AutoModelForCausalLM.from_pretrained(name, options)) as unknown as TjsModel;
    },
    async run(w, _seed, onStep) {
      const inputs = tokenizer!(Array(w.numSamples).fill(w.prompt), { padding: true });
      // min_new_tokens keeps every row going to maxNewTokens, as gpt2-lab does without stopAtEos.
      const sampling = w.doSample ? { do_sample: true, top_k: w.topK, temperature: w.temperature } : { do_sample: false };
      // transformers.js hands its streamer the prompt first, then each step's tokens.
      let puts = 0;
      const streamer = onStep && { put: () => puts++ > 0 && onStep(puts - 2), end: () => undefined };
      const out = await model!.generate({ ...inputs, max_new_tokens: w.maxNewTokens, min_new_tokens: w.maxNewTokens, ...sampling, ...(streamer ? { streamer } : {}) });
      return (out.dims[1] - inputs.input_ids.dims[1]) * out.dims[0];
    },
    async dispose() {
      await model?.dispose();
    },
  };
}
