// The HTML that lib/display.ts sends to the notebook, checked as strings; and that the show functions
// fail with a clear message outside a tslab kernel. Rendering in a browser is checked by
// test/notebooks/lab-check.mjs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { figureHtml, plotlyBundleHtml, progressHtml, scriptSafeJson, shortenForCell, showFigure, showHtml, showProgress } from "../lib/display";
import { ModelFilesError } from "../lib/hub/errors";

test("scriptSafeJson: typed arrays become arrays, nothing can close the script", () => {
  const json = scriptSafeJson({ y: new Float32Array([0.5, 0.25]), text: "</script><b>\u2028" });
  assert.ok(!json.includes("<"), json);
  assert.ok(!json.includes("\u2028"));
  assert.deepEqual(JSON.parse(json), { y: [0.5, 0.25], text: "</script><b>\u2028" });
});

test("figureHtml: a div with the id and a script that draws the figure into it", () => {
  const html = figureHtml({ data: [{ type: "bar", x: ["a"], y: [1] }], layout: { height: 300 } }, "fig-1");
  // Where the script does not run (an untrusted notebook), the div says how to get the figure.
  assert.match(html, /^<div id="fig-1" class="gpt2-lab-figure" style="width:100%;min-height:300px"><p class="gpt2-lab-fallback">[^<]*trust the notebook[^<]*<\/p><\/div>/);
  assert.match(html, /var id = "fig-1";/);
  assert.match(html, /"data":\[\{"type":"bar","x":\["a"\],"y":\[1\]\}\]/);
  assert.equal(html.match(/<\/script>/g)!.length, 1);
  assert.throws(() => figureHtml({ data: [], layout: {} }, 'x" onload="'), RangeError);
});

test("plotlyBundleHtml: one inline script that defines window.Plotly", () => {
  const html = plotlyBundleHtml();
  assert.ok(html.startsWith('<script type="text/javascript">'));
  assert.equal(html.match(/<\/script/gi)!.length, 1);
  assert.ok(html.includes("window.Plotly = Plotly"));
  assert.ok(html.length > 1_000_000, `bundle is ${html.length} characters`);
});

test("progressHtml: a bar per file, sizes in MB, names escaped", () => {
  const html = progressHtml("Loading <model>", [
    { file: "model.safetensors", loaded: 5e6, total: 10e6 },
    { file: "a&b.json", loaded: 2e6, total: 0 },
  ]);
  assert.match(html, /<b>Loading &lt;model&gt;<\/b>/);
  assert.match(html, /<progress value="5000000" max="10000000"[^>]*><\/progress><\/td><td[^>]*>5\.0 \/ 10\.0 MB/);
  assert.match(html, /a&amp;b\.json<\/td><td><progress><\/progress><\/td><td[^>]*>2\.0 MB/);
});

test("show functions outside a kernel: an error that says where they work", () => {
  assert.throws(() => showFigure({ data: [], layout: {} }), /`showFigure` is only available inside a tslab notebook kernel/);
  assert.throws(() => showHtml("<b>x</b>"), /`showHtml` is only available inside a tslab notebook kernel/);
  assert.throws(() => showHtml(1 as unknown as string), TypeError);
  const onProgress = showProgress();
  assert.throws(() => onProgress({ file: "f", loaded: 1, total: 2 }), /`showProgress` is only available/);
});

test("shortenForCell: gpt2-lab's errors about the input print as one line; a bug keeps its stack", () => {
  const context = shortenForCell(new RangeError("The prompt is 300 tokens but this model's context is 256; use a shorter prompt"));
  assert.equal(inspect(context), "RangeError: The prompt is 300 tokens but this model's context is 256; use a shorter prompt");
  const missing = shortenForCell(new ModelFilesError("missing-file", "Model folder /x does not exist."));
  assert.equal(inspect(missing), "ModelFilesError: Model folder /x does not exist.");
  // What JavaScript itself throws is a bug: its stack is kept.
  let bug: unknown;
  try {
    (undefined as unknown as { x: number }).x;
  } catch (error) {
    bug = shortenForCell(error);
  }
  assert.match(inspect(bug), /^TypeError: Cannot read properties of undefined[^\n]*\n\s+at /);
  const plain = shortenForCell(new Error("other"));
  assert.match(inspect(plain), /^Error: other\n\s+at /);
});
