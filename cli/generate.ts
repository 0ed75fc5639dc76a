// `gpt2-lab generate`: text from a prompt, printed like the course's helper (a line of dashes
// before each sample) or as JSON with the prompt ids, the new ids and, on request, the per-step
// trace. Library options map one to one onto flags (`topK` is `--top-k`).
import { once } from "node:events";
import { parseArgs } from "node:util";
import { DEVICES } from "../lib/model/device";
import { generate, type GenerateResult } from "../lib/generate/generate";
import { type GenerateOptions, type TraceLevel, validateGenerateOptions } from "../lib/generate/options";
import type { StepTrace } from "../lib/sampling/choose";
import { loadModelOrDefault } from "../lib/model/load";
import { WEIGHT_DTYPES } from "../lib/onnx/gpt2-graph";
import { terminalProgress } from "./progress";
import { type Command, UsageError } from "./command";
import { integerFlag, oneOfFlag, optionalIntegerFlag, optionalNumberFlag, promptFlag } from "./flags";

export const generateCommand: Command = {
  name: "generate",
  summary: "Generate text from a prompt (greedy, or sampled with temperature, top-k, top-p)",
  usage: [
    "Usage: gpt2-lab generate [--model <id|dir>] [--prompt <text> | --prompt-file <path>] [options]",
    "",
    "Options:",
    "  --model <id|dir>        Hub id (gpt2, gpt2-xl, org/name), model folder, or `shakespeare` (built in);",
    "                          default gpt2, or the built-in model when gpt2 is not cached and offline",
    "  --onnx                  run the repository's own ONNX export instead of converting its weights",
    "  --dtype fp32|int8|fp16  how the converted weights are stored: int8 is faster on the CPU but moves",
    "                          the logits a little; fp16 is for GPUs (default fp32)",
    "  --prompt <text>         the prompt; empty means <|endoftext|> (default: empty)",
    "  --prompt-file <path>    the prompt from a file, as it is (- reads standard input); for long prompts",
    "  --max-new-tokens N      tokens to add (default 20)",
    "  --num-samples N         samples per prompt, run as one batch (default 1)",
    "  --do-sample             sample from the distribution (default: greedy, the most likely token)",
    "  --temperature T         > 0; divides the logits before sampling (default 1)",
    "  --top-k K               keep the K likeliest tokens; 0 keeps all (default 50)",
    "  --top-p P               keep the likeliest tokens up to probability P, in (0, 1] (default 1)",
    "  --min-p P               drop tokens below P × the likeliest one's probability, in [0, 1] (default 0: off)",
    "  --typical-p P           keep the tokens whose surprise is nearest the entropy, up to probability P (default 1: off)",
    "  --epsilon-cutoff E      drop tokens with probability below E, in [0, 1) (default 0: off)",
    "  --eta-cutoff E          drop tokens below min(E, sqrt(E) · e^-entropy), in [0, 1) (default 0: off)",
    "  --seed N                seed for sampling, 0 to 4294967295; each gives its own samples (default 0)",
    "  --repetition-penalty R  > 0; makes tokens already in the text less likely when above 1 (default 1: off)",
    "  --no-repeat-ngram-size N  no run of N tokens may occur twice (default 0: off)",
    "  --min-new-tokens N      no <|endoftext|> before N new tokens (default 0)",
    "  --num-beams N           beam search with N hypotheses (greedy only; default 1: no beams)",
    "  --length-penalty L      beam search: a finished text scores sum of log-probs / length^L (default 1)",
    "  --early-stopping true|false|never   beam search: when to stop (default false)",
    "  --num-return-sequences N  beam search: how many of the best texts to print, at most --num-beams (default 1)",
    "  --stop-at-eos           stop a sample at <|endoftext|> (always on with --num-beams above 1)",
    `  --device <device>       ${DEVICES.join(" | ")} (default auto)`,
    "  --trace none|top|full   record each step: top = chosen token, its probability, rank and the",
    "                          10 likeliest; full = also logits and probs over the whole vocabulary",
    "  --stream                print text as it is generated (one sample only)",
    "  --json                  print {promptIds, samples: [{ids, text, score?}], steps} instead of text;",
    "                          score (beam search) is Hugging Face's sequences_scores",
  ].join("\n"),
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        model: { type: "string" },
        onnx: { type: "boolean", default: false },
        dtype: { type: "string", default: "fp32" },
        prompt: { type: "string" },
        "prompt-file": { type: "string" },
        "max-new-tokens": { type: "string" },
        "num-samples": { type: "string" },
        "do-sample": { type: "boolean", default: false },
        temperature: { type: "string" },
        "top-k": { type: "string" },
        "top-p": { type: "string" },
        seed: { type: "string" },
        "min-p": { type: "string" },
        "typical-p": { type: "string" },
        "epsilon-cutoff": { type: "string" },
        "eta-cutoff": { type: "string" },
        "repetition-penalty": { type: "string" },
        "no-repeat-ngram-size": { type: "string" },
        "min-new-tokens": { type: "string" },
        "num-beams": { type: "string" },
        "length-penalty": { type: "string" },
        "early-stopping": { type: "string" },
        "num-return-sequences": { type: "string" },
        "stop-at-eos": { type: "boolean", default: false },
        device: { type: "string", default: "auto" },
        trace: { type: "string" },
        stream: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
      },
    });
    const device = oneOfFlag("--device", values.device, DEVICES);
    const prompt = promptFlag(values.prompt, values["prompt-file"]);
    const trace = (values.trace ?? "none") as TraceLevel;
    if (!["none", "top", "full"].includes(trace)) throw new UsageError(`--trace must be none, top or full, got \`${trace}\``);
    const numSamples = integerFlag("--num-samples", values["num-samples"], 1);
    if (values.stream && numSamples !== 1) throw new UsageError("--stream prints one sample; drop --num-samples or set it to 1");
    const options: GenerateOptions = {
      numSamples,
      maxNewTokens: integerFlag("--max-new-tokens", values["max-new-tokens"], 20),
      doSample: values["do-sample"],
      temperature: optionalNumberFlag("--temperature", values.temperature),
      topK: optionalNumberFlag("--top-k", values["top-k"]),
      topP: optionalNumberFlag("--top-p", values["top-p"]),
      seed: optionalIntegerFlag("--seed", values.seed),
      minP: optionalNumberFlag("--min-p", values["min-p"]),
      typicalP: optionalNumberFlag("--typical-p", values["typical-p"]),
      epsilonCutoff: optionalNumberFlag("--epsilon-cutoff", values["epsilon-cutoff"]),
      etaCutoff: optionalNumberFlag("--eta-cutoff", values["eta-cutoff"]),
      repetitionPenalty: optionalNumberFlag("--repetition-penalty", values["repetition-penalty"]),
      noRepeatNgramSize: optionalIntegerFlag("--no-repeat-ngram-size", values["no-repeat-ngram-size"]),
      minNewTokens: optionalIntegerFlag("--min-new-tokens", values["min-new-tokens"]),
      numBeams: optionalIntegerFlag("--num-beams", values["num-beams"]),
      lengthPenalty: optionalNumberFlag("--length-penalty", values["length-penalty"]),
      earlyStopping: values["early-stopping"] === undefined ? undefined : earlyStoppingFlag(values["early-stopping"]),
      numReturnSequences: optionalIntegerFlag("--num-return-sequences", values["num-return-sequences"]),
      stopAtEos: values["stop-at-eos"] || undefined,
      trace,
      onToken: values.stream && !values.json ? (event) => process.stdout.write(event.text) : undefined,
    };
    // Every flag is checked before anything is downloaded or converted, and named as a flag.
    await asFlags(() => validateGenerateOptions(options));
    const dtype = oneOfFlag("--dtype", values.dtype, WEIGHT_DTYPES);

    const { model, note } = await loadModelOrDefault(values.model, {
      device,
      onnx: values.onnx,
      dtype,
      onProgress: terminalProgress(),
    });
    if (note) process.stderr.write(note + "\n");
    try {
      if (values.stream && !values.json) process.stdout.write(prompt);
      const result = await asFlags(() => generate(model, prompt, options));
      if (values.json) {
        await writeJson(result);
      } else if (values.stream) {
        process.stdout.write("\n");
      } else {
        for (const sample of result.samples) process.stdout.write(`${"-".repeat(80)}\n${sample.fullText}\n`);
      }
      if (result.ignored.length > 0) {
        const beamsOnly = result.ignored.every((o) => o === "lengthPenalty" || o === "earlyStopping");
        const hint = beamsOnly ? "; they act only with --num-beams above 1" : "; sampling options act only with --do-sample";
        process.stderr.write(`Note: this decoding ignores ${result.ignored.map((o) => FLAGS[o] ?? o).join(", ")}${hint}.\n`);
      }
    } finally {
      await model.dispose();
    }
  },
};

/** The flag for each option of `generate`. */
const FLAGS: Record<string, string> = {
  numSamples: "--num-samples",
  maxNewTokens: "--max-new-tokens",
  temperature: "--temperature",
  topK: "--top-k",
  topP: "--top-p",
  seed: "--seed",
  trace: "--trace",
  minP: "--min-p",
  typicalP: "--typical-p",
  epsilonCutoff: "--epsilon-cutoff",
  etaCutoff: "--eta-cutoff",
  repetitionPenalty: "--repetition-penalty",
  noRepeatNgramSize: "--no-repeat-ngram-size",
  minNewTokens: "--min-new-tokens",
  numBeams: "--num-beams",
  lengthPenalty: "--length-penalty",
  earlyStopping: "--early-stopping",
  numReturnSequences: "--num-return-sequences",
  doSample: "--do-sample",
};

/** `--early-stopping`'s value: true, false or never. */
function earlyStoppingFlag(value: string): boolean | "never" {
  if (value === "true" || value === "false") return value === "true";
  if (value === "never") return value;
  throw new UsageError(`--early-stopping must be true, false or never, got \`${value}\``);
}

/**
 * Runs `task`; an error about one of `generate`'s options becomes a usage error that names the
 * flag instead (`--max-new-tokens`, not `maxNewTokens`).
 */
async function asFlags<T>(task: () => T | Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (error) {
    const message = (error as Error).message;
    const option = /`(\w+)`/.exec(message)?.[1];
    if ((error instanceof RangeError || error instanceof TypeError) && option && FLAGS[option]) {
      throw new UsageError(message.replace(/`(\w+)`/g, (quoted, name: string) => FLAGS[name] ?? quoted));
    }
    throw error;
  }
}

/**
 * Writes the JSON shape (promptIds of the (single) prompt, new-token ids and text per sample,
 * steps[step][sample]) one step of one sample at a time, waiting for stdout to drain: a full trace
 * of many samples is more than one JavaScript string can hold (about 512 MB), and more than is worth
 * holding in memory at once.
 */
async function writeJson(result: GenerateResult): Promise<void> {
  const write = async (text: string) => {
    if (!process.stdout.write(text)) await once(process.stdout, "drain");
  };
  const steps = Math.max(...result.samples.map((s) => s.steps.length));
  const samples = result.samples.map(({ ids, text, score }) => ({ ids, text, ...(score === undefined ? {} : { score }) }));
  await write(`{"promptIds":${JSON.stringify(result.promptIds[0])},"samples":${JSON.stringify(samples)}`);
  if (steps > 0) {
    await write(`,"steps":[`);
    for (let t = 0; t < steps; t++) {
      await write(t === 0 ? "[" : ",[");
      for (const [i, sample] of result.samples.entries()) {
        await write((i === 0 ? "" : ",") + JSON.stringify(sample.steps[t] ? stepJson(sample.steps[t]) : null));
      }
      await write("]");
    }
    await write("]");
  }
  await write("}\n");
}

function stepJson(s: StepTrace) {
  return {
    token: s.token.id,
    text: s.token.text,
    prob: s.token.prob,
    rank: s.token.rank,
    entropy: s.entropy,
    top: s.top,
    ...(s.raw && s.probs ? { logits: Array.from(s.raw), probs: Array.from(s.probs) } : {}),
  };
}
