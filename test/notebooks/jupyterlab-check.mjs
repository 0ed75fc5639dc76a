// The notebooks in real JupyterLab: JupyterLab 3.6.8's own frontend packages from the npm registry,
// built in test/jupyterlab (npm ci and npm run build there), served by jupyterlab_server's
// LabServerApp on Debian's jupyter_server (test/jupyterlab/server.py). Each notebook is opened in
// headless Chromium over a copy under build/ui-lab, run with Run All Cells, and checked: no cell
// failed, every figure drew, the sliders move the bars, a figure follows its box's width; then it is
// saved, the page reloaded, and the figures checked again; last, the executed copy from build/notebooks
// is opened untrusted, where every figure must say how to draw it. Screenshots: build/screenshots/lab-*.
// Usage (after scripts/jupyter-env.sh): node test/notebooks/jupyterlab-check.mjs [names...]
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_FLAGS, checkFigures, checkResize, checkSlider, freePort, offlineOnly, ROOT, SCREENSHOTS, waitForServer } from "./page-checks.mjs";

const LAB_ROOT = path.join(ROOT, "build/ui-lab");
const APP = path.join(ROOT, "test/jupyterlab");
const BUILD = process.env.GPT2_LAB_JUPYTERLAB_BUILD ?? path.join(APP, "build");
// Debian's python3-jupyter-server and python3-jupyterlab-server live in the system Python.
const PYTHON = process.env.GPT2_LAB_LAB_PYTHON ?? "/usr/bin/python3";
const RUN_TIMEOUT_MS = Number(process.env.GPT2_LAB_NOTEBOOK_TIMEOUT_S ?? 900) * 1000;

async function startLab(port, token) {
  fs.rmSync(LAB_ROOT, { recursive: true, force: true });
  fs.mkdirSync(path.join(LAB_ROOT, "notebooks"), { recursive: true });
  fs.symlinkSync(path.join(ROOT, "dist"), path.join(LAB_ROOT, "dist"));
  const log = fs.openSync(path.join(SCREENSHOTS, "jupyterlab-server.log"), "w");
  const server = spawn(
    PYTHON,
    [
      path.join(APP, "server.py"), `--ServerApp.root_dir=${LAB_ROOT}`, "--ServerApp.ip=127.0.0.1", `--ServerApp.port=${port}`,
      `--ServerApp.token=${token}`, "--ServerApp.open_browser=False", "--ServerApp.port_retries=0", "--NotebookNotary.db_file=:memory:",
      ...(process.getuid?.() === 0 ? ["--ServerApp.allow_root=True"] : []),
    ],
    { stdio: ["ignore", log, log], env: { ...process.env, JUPYTER_RUNTIME_DIR: path.join(LAB_ROOT, "runtime") } },
  );
  return waitForServer(server, `http://127.0.0.1:${port}/api/status?token=${token}`, "JupyterLab's server", "jupyterlab-server.log");
}

/** Waits until the open notebook's kernel is idle and (with `ran`) every code cell shows an execution count. */
function settled(page, ran) {
  return page.waitForFunction(
    (ran) => {
      const panel = window.jupyterapp?.shell?.currentWidget;
      const kernel = panel?.sessionContext?.session?.kernel;
      if (!panel?.content || !kernel || kernel.status !== "idle") return false;
      if (!ran) return true;
      return panel.content.widgets.every((cell) => cell.model.type !== "code" || typeof cell.model.executionCount === "number");
    },
    ran,
    { timeout: RUN_TIMEOUT_MS, polling: 500 },
  );
}

/** Error outputs, and stderr (where tslab reports errors), of the open notebook. */
function cellProblems(page, where) {
  return page.evaluate((where) => {
    const panel = window.jupyterapp.shell.currentWidget;
    return panel.content.widgets.flatMap((cell, index) => {
      if (cell.model.type !== "code") return [];
      const outputs = cell.model.outputs.toJSON();
      return outputs
        .filter((o) => o.output_type === "error" || (o.output_type === "stream" && o.name === "stderr"))
        .map((o) => `${where}: cell ${index}: ${o.output_type === "error" ? `${o.ename}: ${o.evalue}` : o.text}`);
    });
  }, where);
}

/** Closes JupyterLab's left side panel: a figure without a fixed width must widen with the notebook. */
async function checkSidePanel(page, where) {
  const figure = await page.evaluateHandle(() => [...document.querySelectorAll(".gpt2-lab-figure")].find((el) => el._fullLayout && !el.layout.width) ?? null);
  if (!(await figure.evaluate((el) => el !== null))) return [];
  const before = await figure.evaluate((el) => el._fullLayout.width);
  await page.evaluate(() => window.jupyterapp.commands.execute("application:toggle-left-area"));
  const followed = await page
    .waitForFunction(([el, width]) => el._fullLayout.width > width + 100, [figure, before], { timeout: 5000 })
    .then(() => true)
    .catch(() => false);
  await page.evaluate(() => window.jupyterapp.commands.execute("application:toggle-left-area"));
  return followed ? [] : [`${where}: a figure kept its width (${before} px) when the side panel closed`];
}

/**
 * Opens the executed copy from build/notebooks, which this server has never trusted: JupyterLab
 * sanitizes its outputs, so no figure may draw, and each must say how to get it drawn.
 */
async function checkUntrusted(browser, port, token, name, figures) {
  const executed = path.join(ROOT, "build/notebooks", name);
  if (!fs.existsSync(executed)) return [`${name}: no executed copy in build/notebooks (run test/notebooks/run-notebooks.py first)`];
  const copy = `untrusted-${name}`;
  fs.copyFileSync(executed, path.join(LAB_ROOT, "notebooks", copy));
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await offlineOnly(page);
  await page.goto(`http://127.0.0.1:${port}/lab/tree/notebooks/${encodeURIComponent(copy)}?reset&token=${token}`);
  await settled(page, false);
  const seen = await page.evaluate(() => ({
    drawn: document.querySelectorAll(".main-svg").length,
    notes: [...document.querySelectorAll(".jp-OutputArea-output")].filter((el) => /trust the notebook/.test(el.innerText)).length,
  }));
  await page.screenshot({ path: path.join(SCREENSHOTS, `lab-${name.replace(/\.ipynb$/, "")}-untrusted.png`) });
  await page.close();
  const problems = [];
  if (seen.drawn > 0) problems.push(`${name} (JupyterLab, untrusted): ${seen.drawn} figures drew, so output scripts ran`);
  if (seen.notes !== figures) problems.push(`${name} (JupyterLab, untrusted): ${seen.notes} figures say how to draw them, of ${figures}`);
  return problems;
}

async function runInLab(browser, port, token, name) {
  const stem = name.replace(/\.ipynb$/, "");
  fs.copyFileSync(path.join(ROOT, "notebooks", name), path.join(LAB_ROOT, "notebooks", name));
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await offlineOnly(page);
  const url = `http://127.0.0.1:${port}/lab/tree/notebooks/${encodeURIComponent(name)}?reset&token=${token}`;
  await page.goto(url);
  await settled(page, false);
  const started = Date.now();
  await page.evaluate(() => window.jupyterapp.commands.execute("notebook:run-all-cells"));
  await settled(page, true).catch(() => undefined);
  const seconds = (Date.now() - started) / 1000;
  const where = `${name} (JupyterLab)`;
  const problems = await cellProblems(page, where);
  const live = await checkFigures(page, where, `lab-${stem}`);
  problems.push(...live.problems, ...(await checkSlider(page, where)), ...(await checkResize(page, where)), ...(await checkSidePanel(page, where)));
  await page.screenshot({ path: path.join(SCREENSHOTS, `lab-${stem}.png`) });
  // Save, reload: the saved outputs must draw again.
  await page.evaluate(() => window.jupyterapp.commands.execute("docmanager:save"));
  await page.waitForFunction(() => window.jupyterapp.shell.currentWidget?.context?.model?.dirty === false, null, { timeout: 30_000 }).catch(() => undefined);
  await page.goto(url);
  await settled(page, false);
  const reloaded = await checkFigures(page, `${where}, reloaded`, `lab-${stem}-reloaded`);
  problems.push(...reloaded.problems, ...(await checkSlider(page, `${where}, reloaded`)));
  if (reloaded.figures !== live.figures) problems.push(`${where}: ${reloaded.figures} figures after reload, ${live.figures} before`);
  await page.close();
  return { seconds, figures: live.figures, problems };
}

async function main() {
  const requested = process.argv.slice(2);
  const names = requested.length ? requested.map((n) => path.basename(n)) : fs.readdirSync(path.join(ROOT, "notebooks")).filter((n) => n.endsWith(".ipynb")).sort();
  if (!fs.existsSync(path.join(BUILD, "bundle.js"))) throw new Error(`JupyterLab is not built in ${BUILD}: run scripts/jupyterlab-build.sh`);
  if (spawnSync(PYTHON, ["-c", "import jupyterlab_server, jupyter_server"]).status !== 0) {
    throw new Error(`${PYTHON} lacks jupyterlab_server: on Debian, sudo apt-get install python3-jupyter-server python3-jupyterlab-server (or set GPT2_LAB_LAB_PYTHON)`);
  }
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const server = await startLab(port, token);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  let failed = 0;
  try {
    for (const name of names) {
      const lab = await runInLab(browser, port, token, name);
      lab.problems.push(...(await checkUntrusted(browser, port, token, name, lab.figures)));
      const source = fs.readFileSync(path.join(ROOT, "notebooks", name), "utf8");
      if (source.includes("showFigure(") && lab.figures === 0) lab.problems.push(`${name}: calls showFigure but no figure appeared in JupyterLab`);
      if (lab.problems.length) {
        failed++;
        console.log(`FAIL ${name} in JupyterLab (run all: ${lab.seconds.toFixed(1)} s)`);
        for (const p of lab.problems) console.log(p);
      } else {
        console.log(`ok   ${name} in JupyterLab 3.6.8 (run all: ${lab.seconds.toFixed(1)} s, ${lab.figures} figures drawn, again after save and reload; each explains itself untrusted)`);
      }
    }
  } finally {
    await browser.close();
    server.kill("SIGTERM");
    await new Promise((resolve) => server.once("exit", resolve));
  }
  console.log(`jupyterlab: ${names.length - failed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
