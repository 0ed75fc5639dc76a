// What the JupyterLab 4 and Notebook 7 checks do on a page (both expose the application as
// window.jupyterapp): wait for the kernel, read the cells' problems, check every figure cell by cell
// (scrolled into view, since windowed notebooks keep cells out of view off the page), run cells, save,
// and count the copies of plotly in a saved file.
import * as fs from "node:fs";
import * as path from "node:path";
import { SCREENSHOTS } from "./page-checks.mjs";

const RUN_TIMEOUT_MS = Number(process.env.GPT2_LAB_NOTEBOOK_TIMEOUT_S ?? 900) * 1000;
// The first line of the plotly bundle's wrapper (lib/display.ts plotlyBundleHtml).
const PLOTLY_MARKER = "(function () { if (window.Plotly) return; var module, exports, define;";

/** Waits until the open notebook's kernel is idle and (with `ran`) every code cell shows an execution count. */
export function settled(page, ran) {
  return page.waitForFunction(
    (ran) => {
      const panel = window.jupyterapp?.shell?.currentWidget;
      const kernel = panel?.sessionContext?.session?.kernel;
      if (!panel?.content?.widgets?.length || !kernel || kernel.status !== "idle") return false;
      if (!ran) return true;
      return panel.content.widgets.every((cell) => cell.model.type !== "code" || typeof cell.model.executionCount === "number");
    },
    ran,
    { timeout: ran ? RUN_TIMEOUT_MS : 60_000, polling: 250 },
  );
}

/** Error outputs, stderr (where tslab reports errors) and ✗ of the open notebook. */
export function labCellProblems(page, where) {
  return page.evaluate((where) => {
    const panel = window.jupyterapp.shell.currentWidget;
    return panel.content.widgets.flatMap((cell, index) => {
      if (cell.model.type !== "code") return [];
      const text = (o) => (Array.isArray(o.text) ? o.text.join("") : o.text ?? "");
      return cell.model.outputs
        .toJSON()
        .filter((o) => o.output_type === "error" || (o.output_type === "stream" && (o.name === "stderr" || text(o).includes("✗"))))
        .map((o) => `${where}: cell ${index}: ${o.output_type === "error" ? `${o.ename}: ${o.evalue}` : text(o)}`);
    });
  }, where);
}

/**
 * Scrolls each cell whose outputs hold gpt2-lab figures into view and checks them there: drawn
 * (plotly's SVG with data traces), or with `trusted: false`, not drawn and saying how to get them
 * drawn. Returns the count, the indices of the cells with figures, and the problems.
 */
export async function checkFiguresByCell(page, where, screenshotPrefix, { trusted = true } = {}) {
  const cells = await page.evaluate(() =>
    window.jupyterapp.shell.currentWidget.content.widgets.flatMap((cell, index) => {
      if (cell.model.type !== "code") return [];
      const html = cell.model.outputs.toJSON().map((o) => [].concat(o.data?.["text/html"] ?? []).join("")).join("");
      const count = (html.match(/class="gpt2-lab-figure"/g) ?? []).length;
      return count ? [{ index, count }] : [];
    }),
  );
  const problems = [];
  let figures = 0;
  for (const { index, count } of cells) {
    await page.evaluate((i) => window.jupyterapp.shell.currentWidget.content.scrollToItem(i, "center"), index);
    const done = trusted
      ? ([i, n]) => {
          const els = [...window.jupyterapp.shell.currentWidget.content.widgets[i].node.querySelectorAll(".gpt2-lab-figure")];
          return els.length === n && els.every((el) => el.querySelector(".main-svg") || (el.textContent.trim() !== "" && !el.querySelector(".gpt2-lab-fallback")));
        }
      : ([i, n]) => {
          const els = [...window.jupyterapp.shell.currentWidget.content.widgets[i].node.querySelectorAll(".gpt2-lab-figure")];
          return els.length === n && els.every((el) => /trust the notebook/.test(el.innerText));
        };
    // Until every figure of the cell is on the page and settled; a missing one is reported below.
    await page.waitForFunction(done, [index, count], { timeout: 30_000 }).catch(() => undefined);
    const seen = await page.evaluate((i) => {
      const node = window.jupyterapp.shell.currentWidget.content.widgets[i].node;
      return [...node.querySelectorAll(".gpt2-lab-figure")].map((el) => ({
        svg: el.querySelectorAll(".main-svg").length,
        traces: Array.isArray(el.data) ? el.data.length : 0,
        drawn: el.querySelectorAll("g.trace, g.hm").length,
        text: el.innerText.trim(),
      }));
    }, index);
    if (seen.length !== count) problems.push(`${where}: cell ${index} shows ${seen.length} of its ${count} figures`);
    for (const [k, f] of seen.entries()) {
      const label = `${where}: cell ${index}, figure ${k + 1}`;
      if (!trusted) {
        if (f.svg > 0) problems.push(`${label} was drawn, so the output scripts ran`);
        else if (!/trust the notebook/.test(f.text)) problems.push(`${label} shows no note on how to draw it`);
      } else if (f.svg === 0) problems.push(`${label} was not drawn${f.text ? ` (${f.text.slice(0, 200)})` : ""}`);
      else if (f.traces === 0 || f.drawn === 0) problems.push(`${label} has no data traces drawn`);
    }
    figures += seen.length;
    const handles = await page.$$(`.jp-Notebook .jp-Cell:nth-child(${index + 1}) .gpt2-lab-figure`).catch(() => []);
    for (const [k, handle] of handles.entries()) {
      await handle.screenshot({ path: path.join(SCREENSHOTS, `${screenshotPrefix}-cell-${index}-${k + 1}.png`), timeout: 10_000 }).catch(() => undefined);
    }
  }
  return { figures, cells: cells.map((c) => c.index), problems };
}

/** Runs the cells at `indices` one after another, as Ctrl+Enter on each would, and waits for each. */
export async function runCells(page, indices) {
  for (const index of indices) {
    const before = await page.evaluate((i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.executionCount, index);
    await page.evaluate((i) => {
      const panel = window.jupyterapp.shell.currentWidget;
      panel.content.activeCellIndex = i;
      return window.jupyterapp.commands.execute("notebook:run-cell");
    }, index);
    await page.waitForFunction(
      ([i, b]) => {
        const panel = window.jupyterapp.shell.currentWidget;
        const n = panel.content.widgets[i].model.executionCount;
        return typeof n === "number" && n !== b && panel.sessionContext.session?.kernel?.status === "idle";
      },
      [index, before],
      { timeout: RUN_TIMEOUT_MS, polling: 200 },
    );
  }
}

/** Saves the open notebook and waits until it is no longer dirty. */
export async function save(page) {
  await page.evaluate(() => window.jupyterapp.commands.execute("docmanager:save"));
  await page.waitForFunction(() => window.jupyterapp.shell.currentWidget?.context?.model?.dirty === false, null, { timeout: 30_000 }).catch(() => undefined);
}

/** How many copies of the plotly bundle a saved notebook holds. */
export function countPlotlyCopies(file) {
  return fs.readFileSync(file, "utf8").split(PLOTLY_MARKER).length - 1;
}
