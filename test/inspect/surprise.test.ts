// `surprise` against the model's own next-token logits, prefix by prefix (one forward pass against
// many), and perplexity against its definition.
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { END_OF_TEXT_ID } from "../../lib/config";
import { surprise } from "../../lib/inspect/surprise";
import type { Model } from "../../lib/model/model";
import { softmax } from "../../lib/sampling/distribution";
import { randomModel, scratchFolder } from "../scratch";

const tmp = scratchFolder("surprise");
let model: Model;
before(async () => {
  model = await randomModel({ shape: "tiny", seed: 27, out: path.join(tmp, "tiny") });
});
after(() => model.dispose());

test("each token's probability is the next-token probability after the text before it (and <|endoftext|>)", async () => {
  const text = "The cat sat on the mat.";
  const result = await surprise(model, text);
  const ids = model.tokenizer.encode(text).ids;
  assert.equal(result.tokens.length, ids.length);
  for (const [t, id] of ids.entries()) {
    const [logits] = await model.forward([[END_OF_TEXT_ID, ...ids.slice(0, t)]]).then((all) => [all.subarray(t * 50257, (t + 1) * 50257)]);
    const p = softmax(logits)[id];
    assert.ok(Math.abs(result.tokens[t].prob - p) <= 1e-5, `token ${t}: ${result.tokens[t].prob} against ${p}`);
    assert.ok(Math.abs(result.tokens[t].loss + Math.log(p)) <= 1e-3);
  }
  const mean = result.tokens.reduce((s, t) => s + t.loss, 0) / ids.length;
  assert.ok(Math.abs(result.perplexity - Math.exp(mean)) <= 1e-9 * result.perplexity);
});

test("bad input: an empty text, and a text past the context", async () => {
  await assert.rejects(surprise(model, ""), /`text`/);
  await assert.rejects(surprise(model, "a ".repeat(200)), /context is 128/);
});
