// Runs every notebook as a person would, in a real browser: starts a Jupyter Notebook server on
// 127.0.0.1 over copies of notebooks/ (under build/ui, so the committed files are never written), opens
// each notebook in headless Chromium, clicks Cell → Run All, waits for the kernel, and checks that no
// cell failed and every figure was drawn by plotly; then saves, reloads the page and checks the figures
// again (and narrows a figure's box, which the figure must follow), opens the HTML exports from
// build/notebooks, and opens those executed copies untrusted, where every figure must say how to draw
// it; last, it clicks ■ during a generation. All requests leave for 127.0.0.1 or file:// only, so
// plotly must come from the page itself. Screenshots go to build/screenshots/. JupyterLab has its own
// check, jupyterlab-check.mjs; what both use is in page-checks.mjs.
// Usage (after scripts/jupyter-env.sh and run-notebooks.py): node test/notebooks/browser-check.mjs [names...]
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_FLAGS, checkFigures, checkResize, checkSlider, freePort, offlineOnly, ROOT, SCREENSHOTS, waitForServer } from "./page-checks.mjs";

const UI_ROOT = path.join(ROOT, "build/ui");
const EXPORTS = path.join(ROOT, "build/notebooks");
const PYTHON = process.env.GPT2_LAB_PYTHON ?? "python3";
const RUN_TIMEOUT_MS = Number(process.env.GPT2_LAB_NOTEBOOK_TIMEOUT_S ?? 900) * 1000;

/** Copies notebooks/ to build/ui/notebooks, with build/ui/dist linking to dist/ so `../dist/lib` resolves. */
function prepareUiRoot(names) {
  fs.rmSync(UI_ROOT, { recursive: true, force: true });
  fs.mkdirSync(path.join(UI_ROOT, "notebooks"), { recursive: true });
  for (const name of names) fs.copyFileSync(path.join(ROOT, "notebooks", name), path.join(UI_ROOT, "notebooks", name));
  fs.symlinkSync(path.join(ROOT, "dist"), path.join(UI_ROOT, "dist"));
}

/** Starts `jupyter notebook` and resolves once its API answers. */
async function startServer(port, token) {
  const log = fs.openSync(path.join(SCREENSHOTS, "jupyter-server.log"), "w");
  const server = spawn(
    PYTHON,
    [
      "-m", "notebook", "--no-browser", "--ip=127.0.0.1", `--port=${port}`, `--notebook-dir=${UI_ROOT}`,
      `--NotebookApp.token=${token}`, "--NotebookNotary.db_file=:memory:", "--NotebookApp.port_retries=0",
      // CI runs as root; Jupyter refuses that unless told.
      ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
    ],
    // Runtime files (connection files, cookie secret) stay in build/ui instead of ~/.local.
    { stdio: ["ignore", log, log], env: { ...process.env, JUPYTER_RUNTIME_DIR: path.join(UI_ROOT, "runtime") } },
  );
  return waitForServer(server, `http://127.0.0.1:${port}/api/status?token=${token}`, "jupyter notebook", "jupyter-server.log");
}

/** Shuts down every kernel the server started (before the server itself stops). */
async function deleteSessions(port, token) {
  const sessions = await (await fetch(`http://127.0.0.1:${port}/api/sessions?token=${token}`)).json();
  for (const s of sessions) await fetch(`http://127.0.0.1:${port}/api/sessions/${s.id}?token=${token}`, { method: "DELETE" });
}

/**
 * Opens the executed notebook from build/notebooks, which this server has never trusted: its output
 * scripts do not run, so every figure must show its note saying how to draw it.
 */
async function checkUntrusted(browser, port, token, name) {
  const stem = name.replace(/\.ipynb$/, "");
  const copy = `untrusted-${name}`;
  fs.copyFileSync(path.join(EXPORTS, name), path.join(UI_ROOT, "notebooks", copy));
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await offlineOnly(page);
  await page.goto(`http://127.0.0.1:${port}/notebooks/notebooks/${encodeURIComponent(copy)}?token=${token}`);
  await page.waitForFunction(() => window.Jupyter?.notebook?.get_cells?.().length > 0, null, { timeout: 60_000 });
  const figures = await page.$$eval(".gpt2-lab-figure", (els) =>
    els.map((el) => ({ drawn: el.querySelector(".main-svg") !== null, note: el.querySelector(".gpt2-lab-fallback")?.innerText ?? "", visible: el.getBoundingClientRect().height > 0 })),
  );
  await page.screenshot({ path: path.join(SCREENSHOTS, `${stem}-untrusted.png`) });
  await page.close();
  const problems = [];
  figures.forEach((f, i) => {
    if (f.drawn) problems.push(`${name} (untrusted): figure ${i + 1} was drawn, so the output scripts ran`);
    else if (!/trust the notebook/.test(f.note) || !f.visible) problems.push(`${name} (untrusted): figure ${i + 1} shows no note on how to draw it`);
  });
  return { figures: figures.length, problems };
}

/** A notebook whose second cell generates until stopped, for the interrupt check. */
const INTERRUPT_NOTEBOOK = {
  cells: [
    // `made` is declared here: tslab forgets the declarations of a cell that fails, as an interrupted one does.
    'import * as lab from "../dist/lib";\nconst { model } = await lab.loadModelOrDefault(process.env.GPT2_LAB_MODEL);\nlet made = 0;',
    "for (let i = 0; i < 100000; i++) {\n  await lab.generate(model, \"\", { maxNewTokens: 50, onToken: () => { made++; } });\n}",
    "const before = made;\nawait new Promise((resolve) => setTimeout(resolve, 1000));\nconsole.log(made === before ? \"stopped\" : `still running: ${made - before} tokens in 1 s`);",
    '(await lab.generate(model, "Hi", { maxNewTokens: 2 })).samples[0].ids.length',
  ].map((source) => ({ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source })),
  metadata: { kernelspec: { display_name: "TypeScript", language: "typescript", name: "tslab" } },
  nbformat: 4,
  nbformat_minor: 4,
};

/**
 * Clicks the ■ button while a cell generates, as a person would: the cell must end within a second
 * and a half with the one-line note, the generation must really stop (no tokens a second later), and
 * the next cell must generate again.
 */
async function checkInterrupt(browser, port, token) {
  fs.writeFileSync(path.join(UI_ROOT, "notebooks", "interrupt.ipynb"), JSON.stringify(INTERRUPT_NOTEBOOK));
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await offlineOnly(page);
  await page.goto(`http://127.0.0.1:${port}/notebooks/notebooks/interrupt.ipynb?token=${token}`);
  await page.waitForFunction(() => window.Jupyter?.notebook?.kernel?.is_connected?.(), null, { timeout: 60_000 });
  // A cell is done when it shows an execution count and the kernel is idle again.
  const done = (index) =>
    page.waitForFunction((i) => typeof Jupyter.notebook.get_cell(i).input_prompt_number === "number" && Jupyter.notebook.kernel_busy === false, index, {
      timeout: 120_000,
      polling: 100,
    });
  // Select the cell and press Shift+Enter, as a person would.
  const run = async (index) => {
    await page.evaluate((i) => {
      Jupyter.notebook.command_mode();
      Jupyter.notebook.select(i);
    }, index);
    await page.keyboard.press("Shift+Enter");
  };
  const outputs = (index) => page.evaluate((i) => Jupyter.notebook.get_cell(i).output_area.outputs.map((o) => o.text ?? JSON.stringify(o.data ?? {})).join(""), index);
  const problems = [];
  await run(0);
  await done(0);
  await run(1);
  await page.waitForFunction(() => Jupyter.notebook.kernel_busy === true, null, { timeout: 10_000 });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const clicked = Date.now();
  await page.click('button[data-jupyter-action="jupyter-notebook:interrupt-kernel"]');
  await done(1);
  const seconds = (Date.now() - clicked) / 1000;
  if (seconds > 1.5) problems.push(`interrupt: the cell took ${seconds.toFixed(1)} s to stop after ■`);
  const note = (await outputs(1)).trim();
  if (note !== "■ interrupted: the generation stopped") problems.push(`interrupt: the cell should end with one line, the note; it shows: ${note}`);
  // After a cell fails, tslab drops whatever it receives in the next 200 ms; a person is slower.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await run(2);
  await done(2);
  const stopped = await outputs(2);
  if (!stopped.includes("stopped")) problems.push(`interrupt: the generation went on after ■ (${stopped.trim()})`);
  await run(3);
  await done(3);
  if (!(await outputs(3)).includes("2")) problems.push(`interrupt: the next generation did not run: ${await outputs(3)}`);
  await page.screenshot({ path: path.join(SCREENSHOTS, "interrupt.png") });
  await page.close();
  return { seconds, problems };
}

/** Outputs that mean a cell failed (tslab prints errors on stderr), and code cells that never ran. */
async function cellProblems(page, where) {
  const report = await page.evaluate(() =>
    Jupyter.notebook.get_cells().flatMap((cell, index) => {
      if (cell.cell_type !== "code") return [];
      const problems = [];
      if (cell.input_prompt_number === null || cell.input_prompt_number === "*" || cell.input_prompt_number === undefined) {
        problems.push(`cell ${index} did not run (prompt ${cell.input_prompt_number})`);
      }
      for (const output of cell.output_area.outputs) {
        if (output.output_type === "error") problems.push(`cell ${index}: ${output.ename}: ${output.evalue}`);
        if (output.output_type === "stream" && output.name === "stderr") problems.push(`cell ${index} wrote to stderr:\n${output.text}`);
      }
      return problems.length ? [`${problems.join("\n")}\n--- source:\n${cell.get_text()}`] : [];
    }),
  );
  return report.map((r) => `${where}: ${r}`);
}

async function runInUi(browser, port, token, name) {
  const stem = name.replace(/\.ipynb$/, "");
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await offlineOnly(page);
  const url = `http://127.0.0.1:${port}/notebooks/notebooks/${encodeURIComponent(name)}?token=${token}`;
  await page.goto(url);
  await page.waitForFunction(() => window.Jupyter?.notebook?.kernel?.is_connected?.() && Jupyter.notebook.kernel_selector, null, { timeout: 60_000 });
  // Cell → Run All, through the menu as a person would.
  await page.click("#celllink");
  await page.click("#run_all_cells > a");
  const started = Date.now();
  await page.waitForFunction(
    () =>
      document.querySelectorAll(".cell.running").length === 0 &&
      Jupyter.notebook.kernel_busy === false &&
      Jupyter.notebook.get_cells().every((c) => c.cell_type !== "code" || (c.input_prompt_number !== null && c.input_prompt_number !== "*")),
    null,
    { timeout: RUN_TIMEOUT_MS, polling: 500 },
  ).catch(() => undefined);
  const seconds = (Date.now() - started) / 1000;
  const problems = await cellProblems(page, `${name} (UI)`);
  const live = await checkFigures(page, `${name} (UI)`, `${stem}-ui`);
  problems.push(...live.problems, ...(await checkSlider(page, `${name} (UI)`)), ...(await checkResize(page, `${name} (UI)`)));
  await page.screenshot({ path: path.join(SCREENSHOTS, `${stem}-ui.png`) });
  // Save (Ctrl-S into the build/ui copy), reload: the saved outputs must draw again.
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+s");
  await page.waitForFunction(() => Jupyter.notebook.dirty === false, null, { timeout: 30_000 }).catch(() => undefined);
  await page.reload();
  await page.waitForFunction(() => window.Jupyter?.notebook?.get_cells?.().length > 0, null, { timeout: 60_000 });
  const reloaded = await checkFigures(page, `${name} (reloaded)`, `${stem}-reloaded`);
  problems.push(...reloaded.problems);
  if (reloaded.figures !== live.figures) problems.push(`${name} (reloaded): ${reloaded.figures} figures after reload, ${live.figures} before`);
  problems.push(...(await checkRerun(page, name, live.figures)));
  await page.close();
  return { seconds, figures: live.figures, problems };
}

/**
 * Re-runs the last and then the first cell with a figure (the plotly bundle travels with the latest
 * one), saves and reloads: every figure must still draw.
 */
async function checkRerun(page, name, count) {
  const cells = await page.evaluate(() =>
    Jupyter.notebook.get_cells().flatMap((cell, i) => (cell.output_area?.element.find(".gpt2-lab-figure").length ? [i] : [])),
  );
  if (cells.length === 0) return [];
  await page.waitForFunction(() => window.Jupyter?.notebook?.kernel?.is_connected?.(), null, { timeout: 60_000 });
  for (const index of [...new Set([cells.at(-1), cells[0]])]) {
    const before = await page.evaluate((i) => Jupyter.notebook.get_cell(i).input_prompt_number, index);
    await page.evaluate((i) => {
      Jupyter.notebook.command_mode();
      Jupyter.notebook.select(i);
    }, index);
    await page.keyboard.press("Control+Enter");
    await page.waitForFunction(
      ([i, b]) => {
        const n = Jupyter.notebook.get_cell(i).input_prompt_number;
        return typeof n === "number" && n !== b && Jupyter.notebook.kernel_busy === false;
      },
      [index, before],
      { timeout: RUN_TIMEOUT_MS, polling: 200 },
    );
  }
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+s");
  await page.waitForFunction(() => Jupyter.notebook.dirty === false, null, { timeout: 30_000 }).catch(() => undefined);
  await page.reload();
  await page.waitForFunction(() => window.Jupyter?.notebook?.get_cells?.().length > 0, null, { timeout: 60_000 });
  const after = await checkFigures(page, `${name} (cells ${cells.at(-1)} and ${cells[0]} re-run, saved, reloaded)`, `${name.replace(/\.ipynb$/, "")}-rerun`);
  if (after.figures !== count) after.problems.push(`${name} (re-run, reloaded): ${after.figures} figures, ${count} before`);
  return after.problems;
}

async function checkExport(browser, name) {
  const stem = name.replace(/\.ipynb$/, "");
  const file = path.join(EXPORTS, `${stem}.html`);
  if (!fs.existsSync(file)) return { figures: 0, problems: [`${stem}.html: missing (run test/notebooks/run-notebooks.py first)`] };
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await offlineOnly(page);
  await page.goto(`file://${file}`, { waitUntil: "load", timeout: 60_000 });
  const result = await checkFigures(page, `${stem}.html`, `${stem}-html`);
  result.problems.push(...(await checkSlider(page, `${stem}.html`)));
  await page.screenshot({ path: path.join(SCREENSHOTS, `${stem}-html.png`) });
  await page.close();
  return result;
}

async function main() {
  const requested = process.argv.slice(2);
  const names = requested.length
    ? requested.filter((n) => n !== "interrupt").map((n) => path.basename(n))
    : fs.readdirSync(path.join(ROOT, "notebooks")).filter((n) => n.endsWith(".ipynb")).sort();
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  prepareUiRoot(names);
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const server = await startServer(port, token);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  let passed = 0;
  let failed = 0;
  try {
    for (const name of names) {
      const source = fs.readFileSync(path.join(ROOT, "notebooks", name), "utf8");
      const ui = await runInUi(browser, port, token, name);
      const exported = await checkExport(browser, name);
      const untrusted = await checkUntrusted(browser, port, token, name);
      const problems = [...ui.problems, ...exported.problems, ...untrusted.problems];
      if (untrusted.figures !== ui.figures) problems.push(`${name}: ${ui.figures} figures in the UI, ${untrusted.figures} in the untrusted copy`);
      if (source.includes("showFigure(") && ui.figures === 0) problems.push(`${name}: calls showFigure but no figure appeared`);
      if (exported.figures !== ui.figures) problems.push(`${name}: ${ui.figures} figures in the UI, ${exported.figures} in the HTML export`);
      await deleteSessions(port, token);
      if (problems.length) {
        failed++;
        console.log(`FAIL ${name} (run all: ${ui.seconds.toFixed(1)} s)`);
        for (const p of problems) console.log(p);
      } else {
        passed++;
        console.log(`ok   ${name} (run all: ${ui.seconds.toFixed(1)} s, ${ui.figures} figures drawn in the UI, after reload, after re-running cells and in the HTML export; each explains itself untrusted)`);
      }
    }
    // The ■ button, on a notebook of its own (checked when every notebook is, or when asked by name).
    if (requested.length === 0 || requested.includes("interrupt")) {
      const interrupt = await checkInterrupt(browser, port, token);
      await deleteSessions(port, token);
      if (interrupt.problems.length) {
        failed++;
        console.log("FAIL the ■ button");
        for (const p of interrupt.problems) console.log(p);
      } else {
        passed++;
        console.log(`ok   the ■ button stops a generation in ${interrupt.seconds.toFixed(1)} s, and the next cell runs`);
      }
    }
  } finally {
    await browser.close();
    server.kill("SIGTERM");
    await new Promise((resolve) => server.once("exit", resolve));
  }
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
