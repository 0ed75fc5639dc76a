// The notebooks where students open them: JupyterLab 4 (in its default windowing mode and in `full`,
// where cells out of view leave the page) and Notebook 7, from the project's .venv, in headless
// Chromium. Each notebook, copied under build/ui, is run with Run All and checked: no cell failed,
// every figure drew once scrolled into view, the sliders move the bars, a figure follows its box's
// width (and, in JupyterLab, the side panel closing); saved, the file holds one copy of plotly; the
// page reloaded, every figure draws again; the last and first figure cells re-run, saved and reloaded:
// still one copy, every figure drawn. The executed copy from build/notebooks, never trusted by this
// server, shows no figure but a note in each, and Trust draws them. In JupyterLab's default mode
// and in Notebook 7, ■ stops a generation. The HTML exports (build/notebooks) draw their figures
// from file://, and each figure lays out at 600 and 1200 px wide (checkLayouts). All requests go to
// 127.0.0.1 or file:// only. Screenshots: build/screenshots/.
// Usage (after scripts/jupyter-env.sh and run-notebooks.py): node test/notebooks/lab-check.mjs [names...]
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_FLAGS, checkFigures, checkLayouts, checkResize, checkSlider, fluidFigureInView, freePort, offlineOnly, ROOT, SCREENSHOTS, waitForServer } from "./page-checks.mjs";
import { checkInterrupt } from "./lab-interrupt.mjs";
import { checkFiguresByCell, countPlotlyCopies, labCellProblems, runCells, save, settled } from "./lab-page.mjs";

const UI_ROOT = path.join(ROOT, "build/ui");
const EXPORTS = path.join(ROOT, "build/notebooks");
const PYTHON = process.env.GPT2_LAB_PYTHON ?? path.join(ROOT, ".venv/bin/python");

/** The front ends: how to start each, and where a notebook opens. */
const FRONT_ENDS = [
  { name: "JupyterLab 4", key: "lab", module: "jupyterlab", app: "LabApp", windowing: null, url: (n) => `/lab/tree/notebooks/${n}?reset` },
  { name: "JupyterLab 4 (windowing: full)", key: "lab-full", module: "jupyterlab", app: "LabApp", windowing: "full", url: (n) => `/lab/tree/notebooks/${n}?reset` },
  { name: "Notebook 7", key: "nb7", module: "notebook", app: "JupyterNotebookApp", windowing: null, url: (n) => `/notebooks/notebooks/${n}` },
];

/** Starts one front end's server over build/ui; its settings (and windowing mode) in a folder of its own. */
async function startServer(frontEnd, port, token) {
  const settings = path.join(UI_ROOT, `settings-${frontEnd.key}`);
  fs.mkdirSync(path.join(settings, "@jupyterlab/notebook-extension"), { recursive: true });
  // No "get notified about Jupyter news?" toast: offline it fetches nothing, and it covers the sliders' ends.
  fs.mkdirSync(path.join(settings, "@jupyterlab/apputils-extension"), { recursive: true });
  fs.writeFileSync(path.join(settings, "@jupyterlab/apputils-extension/notification.jupyterlab-settings"), JSON.stringify({ fetchNews: "false" }));
  if (frontEnd.windowing) {
    fs.writeFileSync(path.join(settings, "@jupyterlab/notebook-extension/tracker.jupyterlab-settings"), JSON.stringify({ windowingMode: frontEnd.windowing }));
  }
  const log = fs.openSync(path.join(SCREENSHOTS, `${frontEnd.key}-server.log`), "w");
  const server = spawn(
    PYTHON,
    [
      "-m", frontEnd.module, "--no-browser", "--ServerApp.ip=127.0.0.1", `--ServerApp.port=${port}`, "--ServerApp.port_retries=0",
      `--ServerApp.root_dir=${UI_ROOT}`, `--IdentityProvider.token=${token}`, "--NotebookNotary.db_file=:memory:",
      `--${frontEnd.app}.expose_app_in_browser=True`,
      ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
    ],
    {
      stdio: ["ignore", log, log],
      env: {
        ...process.env,
        JUPYTER_RUNTIME_DIR: path.join(UI_ROOT, "runtime"),
        JUPYTERLAB_SETTINGS_DIR: settings,
        JUPYTERLAB_WORKSPACES_DIR: path.join(UI_ROOT, `workspaces-${frontEnd.key}`),
      },
    },
  );
  return waitForServer(server, `http://127.0.0.1:${port}/api/status?token=${token}`, frontEnd.name, `${frontEnd.key}-server.log`);
}

/** Shuts down every kernel the server started. */
async function deleteSessions(port, token) {
  const sessions = await (await fetch(`http://127.0.0.1:${port}/api/sessions?token=${token}`)).json();
  for (const s of sessions) await fetch(`http://127.0.0.1:${port}/api/sessions/${s.id}?token=${token}`, { method: "DELETE" });
}

/** A notebook's address in a front end, token included. */
function notebookUrl(frontEnd, port, token, name) {
  return `http://127.0.0.1:${port}${frontEnd.url(encodeURIComponent(name))}${frontEnd.url("").includes("?") ? "&" : "?"}token=${token}`;
}

async function openNotebook(browser, frontEnd, port, token, name) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("crash", () => console.log(`the page of ${name} in ${frontEnd.name} crashed`));
  // What gpt2-lab's figure scripts log: plotly asked to resize a figure no longer on the page, say.
  const logged = [];
  page.on("console", (message) => {
    if (message.type() === "error" && /plot|gpt2-lab|Resize must be passed/i.test(message.text())) logged.push(message.text().slice(0, 300));
  });
  page.on("pageerror", (error) => {
    if (/plot|gpt2-lab|Resize must be passed/i.test(`${error.message}\n${error.stack}`)) logged.push(error.message.slice(0, 300));
  });
  await offlineOnly(page);
  const url = notebookUrl(frontEnd, port, token, name);
  await page.goto(url);
  await settled(page, false);
  return { page, url, logged };
}

/** Closes JupyterLab's left side panel: a figure without a fixed width must widen with the notebook. */
async function checkSidePanel(page, where) {
  const figure = await fluidFigureInView(page);
  if (!figure) return [];
  const before = await figure.evaluate((el) => el._fullLayout.width);
  await page.evaluate(() => window.jupyterapp.commands.execute("application:toggle-left-area"));
  const followed = await page
    .waitForFunction(([el, width]) => el._fullLayout.width > width + 100, [figure, before], { timeout: 5000 })
    .then(() => true)
    .catch(() => false);
  await page.evaluate(() => window.jupyterapp.commands.execute("application:toggle-left-area"));
  return followed ? [] : [`${where}: a figure kept its width (${before} px) when the side panel closed`];
}

/** Brings the first cell whose figure has sliders into view (figures of cells out of view may not exist). */
async function showSliderCell(page) {
  const index = await page.evaluate(() =>
    window.jupyterapp.shell.currentWidget.content.widgets.findIndex((cell) => cell.model.type === "code" && JSON.stringify(cell.model.outputs.toJSON()).includes('\\"sliders\\":')),
  );
  if (index < 0) return;
  await page.evaluate((i) => window.jupyterapp.shell.currentWidget.content.scrollToItem(i, "center"), index);
  await page.waitForSelector(".gpt2-lab-figure .slider-container", { timeout: 10_000 }).catch(() => undefined);
}

/** Run All, the checks, save, reload, re-run the last and first figure cells, save, reload. */
async function runNotebook(browser, frontEnd, port, token, name) {
  const stem = `${frontEnd.key}-${name.replace(/\.ipynb$/, "")}`;
  const file = path.join(UI_ROOT, "notebooks", name);
  fs.copyFileSync(path.join(ROOT, "notebooks", name), file);
  const where = `${name} (${frontEnd.name})`;
  const { page, url, logged } = await openNotebook(browser, frontEnd, port, token, name);
  const started = Date.now();
  await page.evaluate(() => window.jupyterapp.commands.execute("notebook:run-all-cells"));
  await settled(page, true).catch(() => undefined);
  const seconds = (Date.now() - started) / 1000;
  const problems = await labCellProblems(page, where);
  const live = await checkFiguresByCell(page, where, stem);
  problems.push(...live.problems);
  await showSliderCell(page);
  problems.push(...(await checkSlider(page, where)), ...(await checkResize(page, where)));
  if (frontEnd.module === "jupyterlab") problems.push(...(await checkSidePanel(page, where)));
  await page.screenshot({ path: path.join(SCREENSHOTS, `${stem}.png`) });

  const sizes = [];
  const savedHasOneCopy = async (when) => {
    await save(page);
    const copies = countPlotlyCopies(file);
    sizes.push(fs.statSync(file).size);
    if (live.figures > 0 && copies !== 1) problems.push(`${where}: the file saved ${when} holds ${copies} copies of plotly, not 1 (${(fs.statSync(file).size / 1e6).toFixed(1)} MB)`);
  };
  const reloadAndCheck = async (when) => {
    await page.goto(url);
    await settled(page, false);
    const again = await checkFiguresByCell(page, `${where}, ${when}`, `${stem}-${when.replace(/\W+/g, "-")}`);
    problems.push(...again.problems);
    if (again.figures !== live.figures) problems.push(`${where}, ${when}: ${again.figures} figures, ${live.figures} before`);
  };
  await savedHasOneCopy("after Run All");
  await reloadAndCheck("reloaded");
  // Re-run the last, then the first cell with a figure (plotly travels with the latest), save, reload.
  const figureCells = live.cells;
  if (figureCells.length > 0) {
    await runCells(page, [...new Set([figureCells.at(-1), figureCells[0]])]);
    problems.push(...(await labCellProblems(page, `${where}, re-run`)));
    await savedHasOneCopy("after re-running figure cells");
    await reloadAndCheck("re-run and reloaded");
  }
  await page.close();
  problems.push(...logged.map((text) => `${where}: the page logged an error: ${text}`));
  return { seconds, figures: live.figures, sizes, problems };
}

/**
 * Opens the executed copy from build/notebooks, which this server has never trusted: no figure may
 * draw, and each must say how to get it drawn; then trusts it (as a person would: JupyterLab's
 * Trust Notebook command, Notebook 7's "Not Trusted" button) and every figure must draw.
 */
async function checkUntrusted(browser, frontEnd, port, token, name, figures) {
  const where = `${name} (${frontEnd.name}, untrusted)`;
  const executed = path.join(EXPORTS, name);
  if (!fs.existsSync(executed)) return [`${where}: no executed copy in build/notebooks (run test/notebooks/run-notebooks.py first)`];
  const copy = `untrusted-${name}`;
  fs.copyFileSync(executed, path.join(UI_ROOT, "notebooks", copy));
  const { page } = await openNotebook(browser, frontEnd, port, token, copy);
  const stem = `${frontEnd.key}-${name.replace(/\.ipynb$/, "")}-untrusted`;
  const before = await checkFiguresByCell(page, where, stem, { trusted: false });
  const problems = [...before.problems];
  if (before.figures !== figures) problems.push(`${where}: ${before.figures} figures say how to draw them, of ${figures}`);
  if (frontEnd.module === "notebook") await page.click("text=Not Trusted");
  else await page.evaluate(() => void window.jupyterapp.commands.execute("notebook:trust"));
  await page.click(".jp-Dialog .jp-mod-accept", { timeout: 10_000 }).catch((error) => problems.push(`${where}: no Trust dialog: ${error.message.split("\n")[0]}`));
  const after = await checkFiguresByCell(page, `${name} (${frontEnd.name}, trusted)`, `${stem}-trusted`);
  problems.push(...after.problems);
  if (after.figures !== figures) problems.push(`${where}: ${after.figures} figures drew once trusted, of ${figures}`);
  await page.close();
  return problems;
}

async function checkExport(browser, name) {
  const stem = name.replace(/\.ipynb$/, "");
  const file = path.join(EXPORTS, `${stem}.html`);
  if (!fs.existsSync(file)) return { figures: 0, problems: [`${stem}.html: missing (run test/notebooks/run-notebooks.py first)`] };
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await offlineOnly(page);
  await page.goto(`file://${file}`, { waitUntil: "load", timeout: 60_000 });
  const result = await checkFigures(page, `${stem}.html`, `${stem}-html`);
  result.problems.push(...(await checkSlider(page, `${stem}.html`)), ...(await checkLayouts(page, `${stem}.html`, `${stem}-html`)));
  await page.close();
  return result;
}

async function main() {
  const requested = process.argv.slice(2);
  const names = requested.length
    ? requested.filter((n) => n !== "interrupt").map((n) => path.basename(n))
    : fs.readdirSync(path.join(ROOT, "notebooks")).filter((n) => n.endsWith(".ipynb")).sort();
  fs.rmSync(UI_ROOT, { recursive: true, force: true });
  fs.mkdirSync(path.join(UI_ROOT, "notebooks"), { recursive: true });
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  // `../dist/lib` must resolve from build/ui/notebooks.
  fs.symlinkSync(path.join(ROOT, "dist"), path.join(UI_ROOT, "dist"));
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  let passed = 0;
  let failed = 0;
  const report = (label, problems, detail) => {
    if (problems.length) {
      failed++;
      console.log(`FAIL ${label}`);
      for (const p of problems) console.log(`  ${p}`);
    } else {
      passed++;
      console.log(`ok   ${label}: ${detail}`);
    }
  };
  try {
    for (const name of names) {
      const exported = await checkExport(browser, name);
      report(`${name} as HTML`, exported.problems, `${exported.figures} figures drawn from file://`);
    }
    // GPT2_LAB_FRONT_ENDS=lab,nb7 checks only those (keys: lab, lab-full, nb7).
    const only = process.env.GPT2_LAB_FRONT_ENDS?.split(",");
    for (const frontEnd of FRONT_ENDS.filter((f) => !only || only.includes(f.key))) {
      const port = await freePort();
      const token = randomBytes(16).toString("hex");
      const server = await startServer(frontEnd, port, token);
      try {
        for (const name of names) {
          const run = await runNotebook(browser, frontEnd, port, token, name);
          run.problems.push(...(await checkUntrusted(browser, frontEnd, port, token, name, run.figures)));
          const source = fs.readFileSync(path.join(ROOT, "notebooks", name), "utf8");
          if (source.includes("showFigure(") && run.figures === 0) run.problems.push(`${name}: calls showFigure but no figure appeared`);
          await deleteSessions(port, token);
          const mb = run.sizes.map((s) => `${(s / 1e6).toFixed(2)} MB`).join(", then ");
          report(
            `${name} in ${frontEnd.name}`,
            run.problems,
            `run all ${run.seconds.toFixed(1)} s, ${run.figures} figures drawn, after reload, after re-running and once trusted; saved ${mb} with one plotly`,
          );
        }
        if (frontEnd.key !== "lab-full" && (requested.length === 0 || requested.includes("interrupt"))) {
          const interrupt = await checkInterrupt(browser, UI_ROOT, notebookUrl(frontEnd, port, token, "interrupt.ipynb"), `${frontEnd.key}-interrupt.png`);
          await deleteSessions(port, token);
          report(`the ■ button in ${frontEnd.name}`, interrupt.problems, `a generation stopped ${interrupt.seconds.toFixed(1)} s after the click, and the next cell ran`);
        }
      } finally {
        server.kill("SIGTERM");
        await new Promise((resolve) => server.once("exit", resolve));
      }
    }
  } finally {
    await browser.close();
  }
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
