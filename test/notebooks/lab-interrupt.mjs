// The ■ button in JupyterLab 4 or Notebook 7, clicked as a person would while a cell generates: the cell must end
// within 2 s with the one-line note, the generation must really stop (no token a second later), and
// the next cell must generate again. test/notebooks/interrupt-kernel.py checks more cell shapes
// through a kernel client; this one checks the button and the page.
import * as fs from "node:fs";
import * as path from "node:path";
import { offlineOnly, SCREENSHOTS } from "./page-checks.mjs";
import { runCells, settled } from "./lab-page.mjs";

/** A notebook whose second cell generates until stopped, as its first statement. */
const INTERRUPT_NOTEBOOK = {
  cells: [
    // `made` is declared here: tslab forgets the declarations of a cell that fails, as an interrupted one does.
    'import * as lab from "../dist/lib";\nconst { model } = await lab.loadModelOrDefault(process.env.GPT2_LAB_MODEL);\nlet made = 0;',
    'await lab.generate(model, "", {\n  numSamples: 64,\n  maxNewTokens: model.config.n_positions - 1,\n  onToken: () => {\n    made++;\n  },\n});',
    'const before = made;\nawait new Promise((resolve) => setTimeout(resolve, 1000));\nconsole.log(made === before ? "stopped" : `still running: ${made - before} tokens in 1 s`);',
    '(await lab.generate(model, "Hi", { maxNewTokens: 2 })).samples[0].ids.length',
  ].map((source) => ({ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source })),
  metadata: { kernelspec: { display_name: "TypeScript", language: "typescript", name: "tslab" } },
  nbformat: 4,
  nbformat_minor: 5,
};

/** Opens build/ui/notebooks/interrupt.ipynb at `url` (a front end's address for it) and clicks ■ during a generation. */
export async function checkInterrupt(browser, uiRoot, url, screenshot) {
  fs.writeFileSync(path.join(uiRoot, "notebooks", "interrupt.ipynb"), JSON.stringify(INTERRUPT_NOTEBOOK));
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await offlineOnly(page);
  await page.goto(url);
  await settled(page, false);
  const outputs = (i) =>
    page.evaluate(
      (i) =>
        window.jupyterapp.shell.currentWidget.content.widgets[i].model.outputs
          .toJSON()
          .map((o) => [].concat(o.text ?? JSON.stringify(o.data ?? {})).join(""))
          .join(""),
      i,
    );
  const problems = [];
  await runCells(page, [0]);
  await page.evaluate(() => {
    const panel = window.jupyterapp.shell.currentWidget;
    panel.content.activeCellIndex = 1;
    void window.jupyterapp.commands.execute("notebook:run-cell");
  });
  await page.waitForFunction(() => window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status === "busy", null, { timeout: 10_000 });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const clicked = Date.now();
  await page.click('.jp-NotebookPanel-toolbar [data-jp-item-name="interrupt"]');
  await page.waitForFunction(() => window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status === "idle", null, { timeout: 120_000, polling: 100 });
  const seconds = (Date.now() - clicked) / 1000;
  if (seconds > 2) problems.push(`the cell took ${seconds.toFixed(1)} s to stop after ■`);
  const note = (await outputs(1)).trim();
  if (note !== "■ interrupted: the generation stopped") problems.push(`the cell should end with one line, the note; it shows: ${note.slice(0, 500)}`);
  // After a cell fails, tslab drops whatever it receives in the next 200 ms; a person is slower.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await runCells(page, [2]);
  const stopped = await outputs(2);
  if (!stopped.includes("stopped")) problems.push(`the generation went on after ■ (${stopped.trim()})`);
  await runCells(page, [3]);
  if (!(await outputs(3)).includes("2")) problems.push(`the next generation did not run: ${await outputs(3)}`);
  await page.screenshot({ path: path.join(SCREENSHOTS, screenshot) });
  await page.close();
  return { seconds, problems };
}
