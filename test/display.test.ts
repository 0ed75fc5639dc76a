// The HTML that lib/display.ts sends to the notebook, checked as strings; and that the show functions
// fail with a clear message outside a tslab kernel. Rendering in a browser is checked by
// test/notebooks/browser-check.mjs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { figureHtml, plotlyBundleHtml, progressHtml, scriptSafeJson, showFigure, showHtml, showProgress } from "../lib/display";

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
