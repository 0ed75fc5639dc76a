import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { configForShape, END_OF_TEXT_ID } from "../../lib/config";
import { generate } from "../../lib/generate/generate";
import { gatherBlocks } from "../../lib/model/cache";
import type { DecoderInputs, Model, StepInputs } from "../../lib/model/model";
import { TextStream } from "../../lib/tokenizer/text-stream";
import { gpt2Tokenizer } from "../../lib/tokenizer/tokenizer";
import { randomModel, scratchFolder } from "../scratch";

const tmp = scratchFolder("generate");
const vocab = 50257;

describe("generate on a tiny random GPT-2", () => {
  let model: Model;
  before(async () => {
    model = await randomModel({ shape: "tiny", seed: 3, out: path.join(tmp, "tiny") });
  });
  after(() => model.dispose());

  test("greedy output is not one token repeated (so cache and position bugs would show)", async () => {
    const { samples } = await generate(model, "When using LLMs,", { maxNewTokens: 20 });
    assert.ok(new Set(samples[0].ids).size >= 5, `greedy ids ${samples[0].ids}`);
  });

  test("greedy decoding equals the argmax of a full recomputation at every step", async () => {
    const { promptIds, samples } = await generate(model, "The cat", { maxNewTokens: 8 });
    const ids = [...promptIds[0]];
    for (const expected of samples[0].ids) {
      const logits = await model.forward([ids]);
      const last = logits.subarray((ids.length - 1) * vocab, ids.length * vocab);
      assert.equal(expected, last.indexOf(Math.max(...last)));
      ids.push(expected);
    }
  });

  test("token ids, a batch from encodeBatch and text give equal results for equal ids", async () => {
    const options = { numSamples: 3, maxNewTokens: 6, doSample: true, topK: 40, seed: 9, trace: "top" as const };
    const texts = ["When using LLMs,", "Hi"];
    const fromText = await generate(model, texts, options);
    const ids = texts.map((text) => model.tokenizer.encode(text).ids);
    assert.deepEqual(ids[0], [2215, 1262, 27140, 10128, 11], "the course's ids");
    assert.deepEqual(await generate(model, ids, options), fromText);
    // encodeBatch left-pads "Hi" to the longer prompt; the padding is not part of the prompt.
    assert.deepEqual(await generate(model, model.tokenizer.encodeBatch(texts), options), fromText);
    assert.deepEqual(fromText.promptIds, ids);
    assert.deepEqual(await generate(model, [ids[1]], options), await generate(model, "Hi", options));
  });

  test("a prompt given several times, as the course's expanded batch, draws as one prompt with numSamples", async () => {
    const options = { maxNewTokens: 6, doSample: true, topK: 40, seed: 4 };
    const ids = model.tokenizer.encode("When using LLMs,").ids;
    const expanded = await generate(model, Array(4).fill(ids), options);
    const once = await generate(model, "When using LLMs,", { ...options, numSamples: 4 });
    assert.deepEqual(expanded.samples.map((s) => s.ids), once.samples.map((s) => s.ids));
    assert.equal(new Set(expanded.samples.map((s) => s.text)).size, 4, "the copies draw different samples");
    assert.deepEqual(expanded.samples.map((s) => s.prompt), [0, 1, 2, 3]);
  });

  test("bad token id prompts name the row and the position", async () => {
    await assert.rejects(generate(model, [[]]), { name: "RangeError", message: /`prompt\[0\]` to be at least one token id/ });
    await assert.rejects(generate(model, [[1, 50257]]), { name: "RangeError", message: /`prompt\[0\]\[1\]` to be a token id, an integer in \[0, 50257\), got `50257`/ });
    await assert.rejects(generate(model, [[1.5]]), RangeError);
    await assert.rejects(generate(model, [["a"]] as unknown as number[][]), TypeError);
    await assert.rejects(generate(model, [] as string[]), TypeError);
    await assert.rejects(generate(model, 5 as unknown as string), TypeError);
    await assert.rejects(
      generate(model, { inputIds: [[1, 2]], attentionMask: [[1]], lengths: [2] }),
      /`prompt.attentionMask\[0\]` to be as long as `prompt.inputIds\[0\]`/,
    );
  });

  test("the same seed gives the same samples; another seed gives others", async () => {
    const options = { numSamples: 4, maxNewTokens: 10, doSample: true, topK: 40 };
    const a = await generate(model, "Hello", { ...options, seed: 1 });
    const b = await generate(model, "Hello", { ...options, seed: 1 });
    const c = await generate(model, "Hello", { ...options, seed: 2 });
    assert.deepEqual(a.samples, b.samples);
    assert.notDeepEqual(a.samples, c.samples);
    assert.equal(new Set(a.samples.map((s) => s.text)).size, 4, "the samples of one batch differ from each other");
  });

  test("topK 1 and the course's temperature 1e-6 both equal greedy decoding", async () => {
    const greedy = await generate(model, "", { numSamples: 2, maxNewTokens: 12 });
    const topK1 = await generate(model, "", { numSamples: 2, maxNewTokens: 12, doSample: true, topK: 1, seed: 5 });
    const cold = await generate(model, "", { numSamples: 2, maxNewTokens: 12, doSample: true, temperature: 1e-6, topK: 40 });
    // Everything but the seed of each sample's generator, which greedy decoding does not use.
    const withoutSeed = (r: typeof greedy) => r.samples.map(({ seed: _, ...rest }) => rest);
    assert.deepEqual(withoutSeed(topK1), withoutSeed(greedy));
    assert.deepEqual(withoutSeed(cold), withoutSeed(greedy));
    assert.deepEqual(greedy.promptIds, [[END_OF_TEXT_ID]]);
    assert.ok(greedy.samples[0].fullText.startsWith("<|endoftext|>"));
  });

  test("a batch of prompts of different lengths equals each prompt run alone", async () => {
    const prompts = ["Hi", "When using LLMs, the model", "A"];
    for (const options of [{ maxNewTokens: 8 }, { maxNewTokens: 8, doSample: true, numSamples: 2, seed: 9, topK: 0 }]) {
      const together = await generate(model, prompts, options);
      for (const [p, text] of prompts.entries()) {
        const alone = await generate(model, text, options);
        const mine = together.samples.filter((s) => s.prompt === p).map(({ ids, text: t }) => ({ ids, text: t }));
        assert.deepEqual(mine, alone.samples.map(({ ids, text: t }) => ({ ids, text: t })), `prompt ${JSON.stringify(text)}`);
        assert.deepEqual(together.promptIds[p], alone.promptIds[0]);
      }
    }
  });

  test("every greedy sample of a batch equals the prompt decoded alone (the prompt's cache is shared)", async () => {
    const prompts = ["Hi", "When using LLMs, the model"];
    const together = await generate(model, prompts, { numSamples: 3, maxNewTokens: 8 });
    for (const [p, text] of prompts.entries()) {
      const [alone] = (await generate(model, text, { maxNewTokens: 8 })).samples;
      for (const sample of together.samples.filter((s) => s.prompt === p)) assert.deepEqual(sample.ids, alone.ids, `prompt ${JSON.stringify(text)}`);
    }
  });

  test("greedy decoding reports the sampling options it ignored", async () => {
    const result = await generate(model, "Hi", { maxNewTokens: 2, temperature: 0.5, topK: 3 });
    assert.equal(result.greedy, true);
    assert.deepEqual(result.ignored, ["temperature", "topK"]);
    assert.deepEqual((await generate(model, "Hi", { maxNewTokens: 2, doSample: true, topK: 3 })).ignored, []);
  });

  test("the trace records each stage, and its probabilities agree with the chosen tokens", async () => {
    const result = await generate(model, "Hi", { maxNewTokens: 3, numSamples: 2, doSample: true, temperature: 0.7, topK: 5, topP: 0.9, trace: "full" });
    for (const sample of result.samples) {
      assert.equal(sample.steps.length, 3);
      for (const [step, t] of sample.steps.entries()) {
        assert.ok(t && t.raw && t.temperature && t.topK && t.topP && t.probs);
        assert.equal(t.token.id, sample.ids[step]);
        assert.equal(t.token.prob, t.probs[t.token.id]);
        assert.ok(t.token.prob > 0);
        // Temperature divides; top-k keeps at most 5 (no ties in random float logits); top-p keeps a subset.
        assert.ok(Math.abs(t.temperature[7] - t.raw[7] / 0.7) < 1e-5);
        const kept = (a: Float32Array) => a.filter((v) => v > -Infinity).length;
        assert.equal(kept(t.topK), 5);
        assert.ok(kept(t.topP) >= 1 && kept(t.topP) <= 5);
        assert.ok(Math.abs(t.probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
        assert.equal(t.top[0].prob, Math.max(...t.probs));
      }
    }
    const top = await generate(model, "Hi", { maxNewTokens: 2, trace: "top", traceTopN: 3 });
    assert.equal(top.samples[0].steps[0].top.length, 3);
    assert.equal(top.samples[0].steps[0].raw, undefined);
    assert.equal(top.samples[0].steps[0].token.rank, 0, "greedy picks the rank-0 token");
  });

  test("streamed text equals the final text, with no replacement characters mid-stream", async () => {
    // Near-uniform sampling draws GPT-2's raw byte tokens, so characters get split across tokens.
    const pieces: string[][] = [[], [], [], [], [], [], [], []];
    const result = await generate(model, "🎉", {
      numSamples: 8,
      maxNewTokens: 60,
      doSample: true,
      temperature: 1e6,
      topK: 0,
      seed: 4,
      onToken: (e) => pieces[e.sample].push(e.text),
    });
    let split = 0;
    const tokenizer = model.tokenizer;
    for (const [i, sample] of result.samples.entries()) {
      assert.equal(pieces[i].join(""), sample.text);
      for (let n = 1; n <= sample.ids.length; n++) if (tokenizer.decode(sample.ids.slice(0, n)).endsWith("\uFFFD")) split++;
      for (const piece of pieces[i].slice(0, -1)) assert.ok(!piece.endsWith("\uFFFD"), JSON.stringify(piece));
    }
    assert.ok(split > 0, "the run should include at least one character split across tokens");
  });

  test("aborting stops within one step with an AbortError", async () => {
    const controller = new AbortController();
    let tokens = 0;
    await assert.rejects(
      generate(model, "Hi", {
        maxNewTokens: 50,
        signal: controller.signal,
        onToken: () => {
          if (++tokens === 3) controller.abort();
        },
      }),
      { name: "AbortError" },
    );
    assert.ok(tokens <= 4, `${tokens} tokens after abort`);
  });

  test("a prompt plus maxNewTokens beyond the context fails before any work", async () => {
    await assert.rejects(generate(model, "Hi", { maxNewTokens: 128 }), /1 tokens and `maxNewTokens` is 128, 129 in all, but this model's context is 128/);
    assert.equal((await generate(model, "Hi", { maxNewTokens: 127 })).samples[0].ids.length, 127);
  });
});

describe("generate's options are checked where they enter", () => {
  const model = scriptedModel(() => 0);
  const cases: [string, object, RegExp][] = [
    ["numSamples 0", { numSamples: 0 }, /`numSamples` to be a positive integer, got `0`/],
    ["numSamples 1.5", { numSamples: 1.5 }, /`numSamples` to be a positive integer, got `1.5`/],
    ["maxNewTokens -1", { maxNewTokens: -1 }, /`maxNewTokens` to be a positive integer, got `-1`/],
    ["maxNewTokens NaN", { maxNewTokens: NaN }, /`maxNewTokens` to be a positive integer, got `NaN`/],
    ["topK 1.5", { doSample: true, topK: 1.5 }, /`topK` to be a non-negative integer, got `1.5`/],
    ["topK -1", { doSample: true, topK: -1 }, /`topK` to be a non-negative integer, got `-1`/],
    ["topK NaN", { doSample: true, topK: NaN }, /`topK` to be a non-negative integer, got `NaN`/],
    ["topP 0", { doSample: true, topP: 0 }, /`topP`/],
    ["topP 1.5", { doSample: true, topP: 1.5 }, /`topP`/],
    ["temperature 0", { doSample: true, temperature: 0 }, /`temperature`.*`doSample: false`/],
    ["temperature -1", { doSample: true, temperature: -1 }, /`temperature`/],
    ["seed 0.5", { seed: 0.5 }, /`seed` to be an integer in \[0, 4294967295\], got `0\.5`/],
    // 2^32 would be the generator's seed 0 again, and -1 its seed 2^32 − 1.
    ["seed 2^32", { seed: 2 ** 32 }, /`seed` to be an integer in \[0, 4294967295\], got `4294967296`/],
    ["seed -1", { seed: -1 }, /`seed` to be an integer in \[0, 4294967295\], got `-1`/],
    ["trace 'all'", { trace: "all" }, /Expected `trace` to be one of 'none', 'top', 'full', got `"all"`/],
    ["a misspelt option", { top_k: 40 }, /Unknown option `top_k`/],
    ["doSample 'yes'", { doSample: "yes" }, /`doSample` to be a boolean/],
  ];
  for (const [name, options, message] of cases) {
    test(`${name} is refused`, async () => {
      await assert.rejects(generate(model, "Hi", options as never), message);
    });
  }
  test("the values at the edges are accepted", async () => {
    const ok = { maxNewTokens: 1 };
    await generate(model, "Hi", { ...ok, numSamples: 1 });
    await generate(model, "Hi", { ...ok, doSample: true, topK: 0, topP: 1, temperature: 1e-6 });
    await generate(model, "Hi", { ...ok, doSample: true, topK: 1, topP: 1e-9, temperature: 1e6 });
  });
  test("the seeds at the ends of the range give samples of their own", async () => {
    const draw = async (seed: number) => (await generate(model, "Hi", { maxNewTokens: 12, doSample: true, topK: 0, temperature: 2, numSamples: 2, seed })).samples.map((s) => s.ids);
    const [first, last, one] = [await draw(0), await draw(2 ** 32 - 1), await draw(1)];
    assert.notDeepEqual(first, last);
    assert.notDeepEqual(first, one);
  });
});

describe("the decoding loop, on a scripted model", () => {
  test("stopAtEos stops one sample while the others go on", async () => {
    // Row 0 says <|endoftext|> at its second step; row 1 never does.
    const model = scriptedModel(({ row, step }) => (row === 0 && step === 1 ? END_OF_TEXT_ID : 100 + step));
    const result = await generate(model, "Hi", { numSamples: 2, maxNewTokens: 5, stopAtEos: true, trace: "top" });
    assert.deepEqual(result.samples[0].ids, [100, END_OF_TEXT_ID]);
    assert.deepEqual(result.samples[1].ids, [100, 101, 102, 103, 104]);
    assert.equal(result.samples[0].steps[2], undefined, "a finished sample has no trace");
    const noStop = await generate(model, "Hi", { numSamples: 2, maxNewTokens: 5 });
    assert.equal(noStop.samples[0].ids.length, 5);
  });

  test("after the prompt, each step feeds one token per row, at the next position", async () => {
    const calls: DecoderInputs[] = [];
    const model = scriptedModel(() => 42, calls);
    await generate(model, ["Hi", "When using"], { maxNewTokens: 3 });
    assert.deepEqual(calls[0].inputIds, [[END_OF_TEXT_ID, 17250], [2215, 1262]]);
    assert.deepEqual(calls[0].positionIds, [[1, 0], [0, 1]]);
    assert.deepEqual(calls[1].inputIds, [[42], [42]]);
    assert.deepEqual(calls[1].positionIds, [[1], [2]]);
    assert.deepEqual(calls[2].attentionMask, [[0, 1, 1, 1], [1, 1, 1, 1]]);
    assert.equal(calls.length, 3);
  });

  test("with numSamples, the prompt pass reads each prompt once and every sample continues from it", async () => {
    const calls: DecoderInputs[] = [];
    const model = scriptedModel(({ step }) => 100 + step, calls);
    const result = await generate(model, ["Hi", "When using"], { numSamples: 3, maxNewTokens: 2 });
    assert.deepEqual(calls[0].inputIds, [[END_OF_TEXT_ID, 17250], [2215, 1262]]);
    assert.deepEqual(calls[1].inputIds, Array(6).fill([100]));
    assert.deepEqual(calls[1].attentionMask, [...Array(3).fill([0, 1, 1]), ...Array(3).fill([1, 1, 1])]);
    assert.deepEqual(calls[1].positionIds, [...Array(3).fill([1]), ...Array(3).fill([2])]);
    assert.deepEqual(result.samples.map((s) => s.ids), Array(6).fill([100, 101]));
  });
});

describe("TextStream", () => {
  test("never emits a split character and adds up to the decoded text", () => {
    const tokenizer = gpt2Tokenizer();
    for (const text of ["👩‍👩‍👧‍👦 🇯🇵 café", "日本語のテキスト", "e\u0301\u0302 ok", "🎉🎉🎉"]) {
      const stream = new TextStream(tokenizer);
      const pieces = tokenizer.encode(text).ids.map((id) => stream.push(id));
      pieces.push(stream.flush());
      for (const piece of pieces) assert.ok(!piece.includes("\uFFFD"), JSON.stringify(piece));
      assert.equal(pieces.join(""), text);
      assert.ok(pieces.includes(""), "some token ended inside a character");
    }
  });
});

/** A stand-in Model whose next token is chosen by a script; records each run's inputs. */
function scriptedModel(next: (at: { row: number; step: number }) => number, calls: DecoderInputs[] = []): Model {
  const config = configForShape("tiny");
  return {
    config,
    tokenizer: gpt2Tokenizer(),
    async step({ state: _state, ...inputs }: StepInputs) {
      calls.push(structuredClone({ ...inputs, past: null }));
      const step = calls.length - 1;
      const batch = inputs.inputIds.length;
      // Logits for the last `logitsToKeep` positions of each row, as the real model returns them.
      const kept = inputs.logitsToKeep || inputs.inputIds[0].length;
      const logits = new Float32Array(batch * kept * vocab);
      for (let row = 0; row < batch; row++) logits[(row * kept + kept - 1) * vocab + next({ row, step })] = 10;
      return { logits, state: { settled: [], recent: null } };
    },
    // Rows of logits copied as the real model copies logits and cache; there is no cache here.
    async selectRows({ logits }: { logits: Float32Array }, rows: number[]) {
      return { logits: gatherBlocks(logits, logits.length / vocab, rows), state: { settled: [], recent: null } }; // one kept position per row
    },
    disposeCache() {},
  } as unknown as Model;
}
