// Shows figures, HTML and download progress in a tslab notebook. This is the only file that knows about
// tslab: it is required when a `show*` function is called, so the rest of lib runs outside a kernel.
// Plotly (the cartesian bundle) is sent inline once per kernel, before the first figure, so plots draw in
// the classic Notebook, in JupyterLab and in nbconvert's HTML export, offline and after a page reload.
// Left out: interactive widgets (comms); figures are static HTML + script, animated only by plotly.
import * as fs from "node:fs";
import { inspect } from "node:util";
import { ANIMATE_NOW, escapeHtml, type PlotlyFigure } from "./plots/figure";

/** The part of tslab's `Display` that gpt2-lab uses. */
interface TslabDisplay {
  html(s: string): void;
}

interface Tslab {
  display: TslabDisplay;
  newDisplay(): TslabDisplay;
}

/** Progress reported while model files download: bytes of `file` loaded so far, out of `total`. */
export interface FileProgress {
  file: string;
  loaded: number;
  total: number;
}

/** Options of {@link showFigure}. */
export interface ShowFigureOptions {
  /**
   * Send the plotly bundle with this figure even if this cell execution already sent it, e.g. after
   * clearing the output that held it.
   * @default false
   */
  includePlotly?: boolean;
}

/** What a figure's div shows where its script does not run. */
const UNTRUSTED_NOTE =
  "This figure is drawn by a script, and Jupyter runs the scripts of a notebook's outputs only once you " +
  "trust the notebook: run the cell again, or trust the notebook. JupyterLab: Trust Notebook in the " +
  "command palette (Ctrl+Shift+C). Notebook 7: click Not Trusted in the toolbar. Classic Notebook: " +
  "File, Trust Notebook, then reload the page.";

const NOT_IN_KERNEL =
  "is only available inside a tslab notebook kernel (start one with `npm start`); " +
  "outside a notebook, build the figure and inspect or save it instead";

// One output holds the plotly bundle at a time: that of the latest cell execution that showed a
// figure. Each copy gets a display id of its own, and the next copy first empties it (Jupyter's
// update_display_data reaches every output with that id). One id for all copies would not do:
// JupyterLab, Notebook 7 and nbclient apply a new output whose id they have seen to every earlier
// output with that id, so each new full copy would fill the emptied ones again.
const BUNDLE_DISPLAY_ID = `gpt2-lab-plotly-${process.pid}-${Date.now()}`;
let bundleExecution: unknown = null;
let bundleCopies = 0;
let nextFigureId = 0;

/** tslab's writer of display messages for the cell executing now (tslab/dist/jupyter.js; internal). */
type DisplayWriter = (message: { data: Record<string, string>; metadata: object; transient: { display_id: string } }, update: boolean) => void;

/** Loads tslab lazily; throws a clear error outside a kernel. */
function tslab(caller: string): Tslab {
  try {
    return require("tslab") as Tslab;
  } catch (error) {
    throw new Error(`\`${caller}\` ${NOT_IN_KERNEL} (tslab could not be loaded: ${(error as Error).message})`);
  }
}

/** Calls `show` and turns tslab's "Not ready" (no cell is executing) into a message that says why. */
function inKernel(caller: string, show: () => void): void {
  try {
    show();
  } catch (error) {
    if ((error as Error).message === "Not ready") throw new Error(`\`${caller}\` ${NOT_IN_KERNEL}`);
    throw error;
  }
}

/**
 * Renders a plotly figure (as built by lib/plots) below the current cell. The first figure of a cell
 * execution also sends plotly itself (1.5 MB, inline), and empties the copy an earlier cell held, so
 * that the notebook keeps one; later figures of the same execution send only the figure.
 */
export function showFigure(figure: PlotlyFigure, { includePlotly = false }: ShowFigureOptions = {}): void {
  const { display } = tslab("showFigure");
  const id = `gpt2-lab-figure-${process.pid}-${nextFigureId++}`;
  inKernel("showFigure", () => {
    sendPlotly(display, includePlotly);
    display.html(figureHtml(figure, id));
  });
}

/** Sends the plotly bundle unless this cell execution already carries it (see BUNDLE_DISPLAY_ID). */
function sendPlotly(display: TslabDisplay, force: boolean): void {
  let write: DisplayWriter | null = null;
  try {
    write = (require("tslab/dist/jupyter") as { lastWriteDisplayData: DisplayWriter | null }).lastWriteDisplayData;
  } catch {
    // Another tslab layout: one copy per kernel, sent with the first figure.
  }
  if (!write) {
    if (bundleExecution === null || force) display.html(plotlyBundleHtml());
    bundleExecution = true;
    return;
  }
  if (write === bundleExecution && !force) return;
  const message = (html: string, copy: number) => ({ data: { "text/html": html }, metadata: {}, transient: { display_id: `${BUNDLE_DISPLAY_ID}-${copy}` } });
  if (bundleExecution !== null) write(message("", bundleCopies), true);
  write(message(plotlyBundleHtml(), ++bundleCopies), false);
  bundleExecution = write;
}

/** Whether this process is a tslab kernel: its executor sets this global before running any cell. */
export function inTslabKernel(): boolean {
  return "__tslab__" in globalThis;
}

// The messages of errors that JavaScript itself throws: a bug, whose stack trace is worth keeping.
const ENGINE_MESSAGES = /^(Invalid (array|typed array|string) length|Maximum call stack|Array buffer allocation|Cannot read properties)/;

/**
 * An error a cell shows, shown as its first line alone when gpt2-lab threw it about the
 * input (a bad option, a prompt past the context, a missing file): tslab prints a failed cell's error
 * with its whole stack, a dozen lines of library frames under a message that already says the fix.
 */
export function shortenForCell(error: unknown): unknown {
  if (!(error instanceof Error) || error.name === "AbortError" || ENGINE_MESSAGES.test(error.message)) return error;
  const known = error instanceof RangeError || error instanceof TypeError || ["ModelFilesError", "SafetensorsError"].includes(error.name);
  // tslab prints with util.inspect, which asks an object for its own form first.
  const line = `${error.name}: ${error.message}`;
  if (known) Object.defineProperty(error, inspect.custom, { value: () => line, configurable: true });
  return error;
}

/**
 * Ends an interrupted cell with one line when this process is a tslab kernel (elsewhere nothing).
 * tslab then reports the promise it abandoned as an error with its own stack trace, which says
 * nothing more: that one report is left out.
 */
export function noteInterrupted(line: string): void {
  if (!inTslabKernel()) return;
  console.log(line);
  // tslab's console writes through process.stderr.write, which tslab points at the cell's output.
  const stderr = process.stderr;
  const original = stderr.write;
  const restore = () => {
    if (stderr.write === quiet) stderr.write = original;
  };
  const quiet = function (chunk: unknown, ...rest: unknown[]): boolean {
    restore();
    if (String(chunk).startsWith("Error: Interrupted asynchronously")) return true;
    return (original as (...args: unknown[]) => boolean).call(stderr, chunk, ...rest);
  } as typeof stderr.write;
  stderr.write = quiet;
  setTimeout(restore, 1000).unref();
}

/** Renders an HTML fragment (e.g. from `tokenProbabilityHtml`) below the current cell. */
export function showHtml(html: string): void {
  if (typeof html !== "string") throw new TypeError(`Expected \`html\` to be a string, got ${typeof html}`);
  const { display } = tslab("showHtml");
  inKernel("showHtml", () => display.html(html));
}

/** Options of {@link showProgress}. */
export interface ShowProgressOptions {
  /** Heading above the bars. @default "Downloading model files" */
  title?: string;
  /** Least time between two redraws, in milliseconds (a finished file is always drawn). @default 250 */
  intervalMs?: number;
}

/**
 * Returns an `onProgress` callback that shows one progress bar per file in a single output, updated in
 * place (Jupyter's update_display_data). Nothing is shown until the first event, so a model that is
 * already cached prints nothing. Pass it to `loadModel(name, { onProgress: showProgress() })`.
 */
export function showProgress({ title = "Downloading model files", intervalMs = 250 }: ShowProgressOptions = {}): (event: FileProgress) => void {
  const files = new Map<string, FileProgress>();
  let output: TslabDisplay | null = null;
  let lastShown = 0;
  return (event: FileProgress) => {
    files.set(event.file, { ...event });
    const now = Date.now();
    if (output !== null && now - lastShown < intervalMs && event.loaded < event.total) return;
    lastShown = now;
    output ??= tslab("showProgress").newDisplay();
    const target = output;
    inKernel("showProgress", () => target.html(progressHtml(title, [...files.values()])));
  };
}

/**
 * The `<script>` that defines `window.Plotly` from the bundled plotly.js, wrapped so that a page's
 * AMD loader (the classic Notebook's require.js) or CommonJS globals do not capture it, and that leaves
 * a plotly already in the page alone.
 */
export function plotlyBundleHtml(): string {
  // Read once per kernel: every cell that shows a figure sends it.
  return (bundleHtml ??= readBundleHtml());
}
let bundleHtml: string | undefined;

function readBundleHtml(): string {
  const source = fs.readFileSync(require.resolve("plotly.js-cartesian-dist-min"), "utf8");
  // A literal "</script" inside the bundle would end the inline script early.
  const safe = source.replace(/<\/script/gi, "<\\/script");
  return (
    '<script type="text/javascript">\n' +
    // A page that has plotly keeps it: figures drawn by it stay tied to that copy.
    "(function () { if (window.Plotly) return; var module, exports, define;\n" +
    safe +
    "\n}).call(window);\n</script>"
  );
}

/**
 * The `<div>` and `<script>` that draw `figure`. The div holds a static note for pages that do not run
 * the script (Jupyter runs output scripts only in a trusted notebook), which the script replaces. The
 * script finds its div as its previous sibling (or by id, since the classic Notebook runs output
 * scripts elsewhere before attaching the output), waits for plotly and for the div to be in the page
 * (drawing anyway after two seconds, for front ends that keep off-screen outputs detached), and after
 * ten seconds without plotly writes in the div how to get it. Once drawn, the figure follows its
 * container's width (plotly's `responsive` follows only the window's).
 */
export function figureHtml(figure: PlotlyFigure, id: string): string {
  if (!/^[A-Za-z][\w-]*$/.test(id)) throw new RangeError(`Expected \`id\` to be an HTML id (letters, digits, - and _), got \`${id}\``);
  const json = scriptSafeJson({ config: { responsive: true, displaylogo: false }, ...figure });
  const height = typeof figure.layout?.height === "number" ? figure.layout.height : 420;
  return `<div id="${id}" class="gpt2-lab-figure" style="width:100%;min-height:${height}px"><p class="gpt2-lab-fallback">${UNTRUSTED_NOTE}</p></div>
<script type="text/javascript">
(function () {
  var id = "${id}";
  var figure = ${json};
  var script = document.currentScript;
  var el = script && script.previousElementSibling && script.previousElementSibling.id === id ? script.previousElementSibling : null;
  var started = Date.now();
  function draw() {
    el = el || document.getElementById(id);
    var waited = Date.now() - started;
    if (el && window.Plotly && (el.isConnected || waited > 2000)) {
      el.textContent = "";
      window.Plotly.newPlot(el, figure).then(function () {
        if (window.ResizeObserver) {
          var observer = new ResizeObserver(function () {
            // A re-run or cleared cell takes the figure off the page: stop following it.
            if (!el.isConnected) return observer.disconnect();
            if (el.offsetParent !== null) window.Plotly.Plots.resize(el);
          });
          observer.observe(el);
        }
        // Several sliders name one frame together (lib/plots/figure.ts PlotlySlider).
        var sliders = figure.layout && figure.layout.sliders;
        if (sliders && sliders.length > 1) {
          el.on("plotly_sliderchange", function () {
            var name = el.layout.sliders.map(function (s) { return s.steps[s.active || 0].label; }).join("|");
            window.Plotly.animate(el, [name], ${JSON.stringify(ANIMATE_NOW)});
          });
        }
      });
    } else if (waited < 10000) {
      setTimeout(draw, 50);
    } else if (el) {
      el.textContent = "Plotly is not loaded in this page: run any cell that shows a figure again " +
        "(or call showFigure(figure, { includePlotly: true })).";
    }
  }
  draw();
})();
</script>`;
}

/** HTML for the progress output: one row per file with a bar and megabytes done. */
export function progressHtml(title: string, files: FileProgress[]): string {
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  const rows = files.map(({ file, loaded, total }) => {
    const known = total > 0 && Number.isFinite(total);
    const bar = known ? `<progress value="${loaded}" max="${total}" style="width:16em"></progress>` : "<progress></progress>";
    const amount = known ? `${mb(loaded)} / ${mb(total)} MB` : `${mb(loaded)} MB`;
    return `<tr><td style="text-align:left">${escapeHtml(file)}</td><td>${bar}</td><td style="text-align:right">${amount}</td></tr>`;
  });
  return `<div class="gpt2-lab-progress"><b>${escapeHtml(title)}</b><table>${rows.join("")}</table></div>`;
}

/**
 * JSON for embedding in a `<script>`: typed arrays become plain arrays, and `<`, U+2028 and U+2029 are
 * escaped so that no string in the data can close the script or break the JavaScript parse.
 */
export function scriptSafeJson(value: unknown): string {
  const json = JSON.stringify(value, (_key, v: unknown) => (ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v));
  return json.replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}
