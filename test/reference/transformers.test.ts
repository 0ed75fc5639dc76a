// gpt2-lab's decoding against Hugging Face transformers itself, on a random GPT-2 of a size no
// other test uses (3 layers, 2 heads, width 48): every processor and cutoff alone and together
// (one step's final distribution), greedy decoding with the repetition penalty and no-repeat
// n-grams (ids over 30 tokens), and beam search (sequences and `sequences_scores`). The reference
// runs in .venv-reference (scripts/python-env.sh, requirements/reference.txt), made here on first
// use; when it cannot be made or run, the test fails.
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { END_OF_TEXT_ID } from "../../lib/config";
import { generate, type GenerateResult } from "../../lib/generate/generate";
import type { GenerateOptions } from "../../lib/generate/options";
import { loadModel } from "../../lib/model/load";
import type { Model } from "../../lib/model/model";
import { processLogits, type SamplingOptions } from "../../lib/sampling/pipeline";
import { makeModel } from "../../lib/weights/make-model";
import { askReference, floats, referencePython } from "./python-reference";
import { scratchFolder } from "../scratch";

const tmp = scratchFolder("parity");

const snake = (options: object) => Object.fromEntries(Object.entries(options).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase()), v]));

// Options where HF's defaults differ from what a case means: each processor alone runs without top-k.
const STEP_CASES: SamplingOptions[] = [
  { topK: 0, repetitionPenalty: 1.3 },
  { topK: 0, repetitionPenalty: 0.7 },
  { topK: 0, noRepeatNgramSize: 2 },
  { topK: 0, noRepeatNgramSize: 1 },
  { topK: 0, minNewTokens: 3 },
  { topK: 0, minP: 0.05 },
  { topK: 0, minP: 0.3, temperature: 0.6 },
  { topK: 0, typicalP: 0.5 },
  { topK: 0, typicalP: 0.95 },
  { topK: 0, epsilonCutoff: 3e-4 },
  { topK: 0, etaCutoff: 2e-3 },
  { topK: 0, etaCutoff: 0.2 },
  // Pairs whose order matters (each filter renormalises what the next one sees).
  { topK: 20, epsilonCutoff: 0.03 },
  { topK: 0, minP: 0.1, typicalP: 0.6 },
  { topK: 0, topP: 0.6, typicalP: 0.5 },
  { topK: 0, epsilonCutoff: 5e-4, etaCutoff: 0.02 },
  { repetitionPenalty: 1.2, noRepeatNgramSize: 2, minNewTokens: 2, temperature: 0.7, topK: 40, topP: 0.9, minP: 0.02, typicalP: 0.9, epsilonCutoff: 1e-4, etaCutoff: 1e-3 },
  { repetitionPenalty: 1.5, temperature: 1.4, topP: 0.8, minP: 0.1, etaCutoff: 5e-4 },
];

describe("decoding equals Hugging Face transformers 4.46", () => {
  let python: string;
  let model: Model;
  let dir: string;
  let context: number[];
  before(async () => {
    python = referencePython();
    const source = path.join(tmp, "random");
    makeModel({ shape: "tiny", seed: 24, out: source, sizes: { n_layer: 3, n_head: 2, n_embd: 48, n_positions: 96 } });
    dir = path.join(tmp, "eos-scaled");
    askReference(python, { prepare: { source, out: dir, eos_scale: 4 } });
    model = await loadModel(dir, { device: "cpu" });
    // A context with repeats, so the penalties and the n-gram ban have something to act on.
    context = model.tokenizer.encode(" the cat sat on the mat and the cat sat on the").ids;
  });
  after(() => model?.dispose());

  test("one step's final distribution, for each processor and cutoff alone and together (within 1e-5)", async () => {
    const answer = askReference(python, { model: dir, steps: STEP_CASES.map((options) => ({ ids: context, options: snake(options) })) });
    const [logits] = await model.nextTokenLogits(model.tokenizer.decode(context));
    assert.deepEqual(model.tokenizer.encode(model.tokenizer.decode(context)).ids, context);
    STEP_CASES.forEach((options, c) => {
      const expected = floats(answer.steps[c]);
      const { probs } = processLogits(logits, options, { ids: context, newTokens: 0 });
      let worst = 0;
      let support = 0;
      for (let v = 0; v < probs.length; v++) {
        worst = Math.max(worst, Math.abs(probs[v] - expected[v]));
        if ((probs[v] > 0) !== (expected[v] > 0)) support++;
        }
      const kept = expected.filter((p) => p > 0).length;
      assert.equal(support, 0, `${JSON.stringify(options)}: ${support} tokens kept by one side only (HF keeps ${kept})`);
      assert.ok(worst <= 1e-5, `${JSON.stringify(options)}: largest difference ${worst}`);
    });
  });

  test("greedy ids over 30 tokens with repetitionPenalty and with noRepeatNgramSize", async () => {
    const cases: GenerateOptions[] = [{}, { repetitionPenalty: 1.5 }, { repetitionPenalty: 0.9 }, { noRepeatNgramSize: 2 }, { noRepeatNgramSize: 3 }, { minNewTokens: 10 }];
    const prompts = [context.slice(0, 4), context];
    const requests = prompts.flatMap((ids) => cases.map((options) => ({ ids, max_new_tokens: 30, options: snake(options) })));
    const answer = askReference(python, { model: dir, generations: requests });
    for (const [r, request] of requests.entries()) {
      const options = cases[r % cases.length];
      const ours = await generate(model, [request.ids], { ...options, maxNewTokens: 30, stopAtEos: true });
      assertSameSequences(ours, answer.generations[r], JSON.stringify(options));
    }
  });

  test("beam search: numBeams 2-5, three length penalties, every earlyStopping (sequences equal, scores within 1e-4)", async () => {
    const cases: GenerateOptions[] = [];
    for (const numBeams of [2, 3, 4, 5]) {
      for (const lengthPenalty of [-0.5, 1, 2]) {
        for (const earlyStopping of [true, false, "never"] as const) cases.push({ numBeams, lengthPenalty, earlyStopping, numReturnSequences: numBeams });
      }
    }
    cases.push({ numBeams: 4, repetitionPenalty: 1.3, noRepeatNgramSize: 2, minNewTokens: 3, numReturnSequences: 2 });
    const prompts = [context.slice(0, 3), context.slice(2, 9), context.slice(5, 7)];
    const requests = prompts.flatMap((ids) => cases.map((options) => ({ ids, max_new_tokens: 16, options: snake(options) })));
    const answer = askReference(python, { model: dir, generations: requests });
    let ended = 0;
    for (const [r, request] of requests.entries()) {
      const options = cases[r % cases.length];
      const ours = await generate(model, [request.ids], { ...options, maxNewTokens: 16 });
      assertSameSequences(ours, answer.generations[r], JSON.stringify(options));
      ours.samples.forEach((sample, s) => assert.ok(Math.abs(sample.score! - answer.generations[r].scores[s]) <= 1e-4, `${JSON.stringify(options)}: score ${sample.score} against ${answer.generations[r].scores[s]}`));
      ended += ours.samples.filter((s) => s.ids.at(-1) === END_OF_TEXT_ID).length;
    }
    // The cases only test earlyStopping and lengthPenalty if hypotheses end before the last step.
    assert.ok(ended >= 20, `only ${ended} returned hypotheses ended with <|endoftext|>`);
  });
});

/** Our samples' ids against HF's sequences, which pad a finished sequence with <|endoftext|>. */
function assertSameSequences(ours: GenerateResult, reference: { sequences: number[][] }, what: string): void {
  assert.equal(ours.samples.length, reference.sequences.length, `${what}: number of sequences`);
  ours.samples.forEach((sample, s) => {
    const theirs = reference.sequences[s];
    const padding = theirs.slice(sample.ids.length);
    assert.deepEqual(sample.ids, theirs.slice(0, sample.ids.length), `${what}: sequence ${s}`);
    assert.ok(padding.every((id) => id === END_OF_TEXT_ID) && (padding.length === 0 || sample.ids.at(-1) === END_OF_TEXT_ID), `${what}: sequence ${s} ends early: ${sample.ids} against ${theirs}`);
  });
}
