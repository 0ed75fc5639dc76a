// What any page check needs (test/notebooks/lab-check.mjs and its helpers): Chromium's settings, a
// free port, a page that may reach only this machine, waiting for a Jupyter server to answer, and the
// checks that every gpt2-lab figure on a page drew, that its sliders move its bars and that it follows
// its container's width. Screenshots go to build/screenshots/.
import * as net from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SCREENSHOTS = path.join(ROOT, "build/screenshots");
export const CHROMIUM = process.env.GPT2_LAB_CHROMIUM ?? "/usr/bin/chromium";
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves with `server` (a spawned Jupyter server) once `url` answers, within 60 s; if it exits or
 * stays silent, throws naming `what` and its log, build/screenshots/`log`.
 */
export async function waitForServer(server, url, what, log) {
  const exited = new Promise((resolve) => server.once("exit", resolve));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r(undefined), 500))]);
    if (code !== undefined) throw new Error(`${what} exited with ${code}; see build/screenshots/${log}`);
    try {
      if ((await fetch(url)).ok) return server;
    } catch {
      // not listening yet
    }
  }
  server.kill("SIGTERM");
  throw new Error(`${what} did not answer within 60 s; see build/screenshots/${log}`);
}

/** Lets a page reach only this machine's Jupyter server and local files. */
export async function offlineOnly(page) {
  await page.route("**/*", (route) => {
    const url = route.request().url();
    const local = url.startsWith("file://") || url.startsWith("data:") || /^https?:\/\/127\.0\.0\.1[:/]/.test(url);
    return local ? route.continue() : route.abort();
  });
}

/** Checks every gpt2-lab figure on the page: plotly's SVG is there and holds drawn data traces. */
export async function checkFigures(page, where, screenshotPrefix) {
  // Figures draw after their script polls for plotly and the div; wait for all of them to settle,
  // and for their count to hold still (a busy machine adds them slowly).
  await page
    .waitForFunction(
      () => {
        const els = [...document.querySelectorAll(".gpt2-lab-figure")];
        const settled = els.every((el) => el.querySelector(".main-svg") || (el.textContent.trim() !== "" && !el.querySelector(".gpt2-lab-fallback")));
        const same = window.__gpt2LabFigureCount === els.length;
        window.__gpt2LabFigureCount = els.length;
        return settled && same;
      },
      null,
      { timeout: 30_000, polling: 500 },
    )
    .catch(() => undefined);
  // One list of handles, each read on its own: a figure added meanwhile is counted, never a crash.
  const handles = await page.$$(".gpt2-lab-figure");
  const problems = [];
  for (const [i, handle] of handles.entries()) {
    const f = await handle.evaluate((el) => ({
      id: el.id,
      svg: el.querySelectorAll(".main-svg").length,
      traces: Array.isArray(el.data) ? el.data.length : 0,
      drawn: el.querySelectorAll("g.trace, g.hm").length,
      message: el.querySelector(".main-svg") ? "" : el.textContent.trim(),
    }));
    if (f.svg === 0) {
      problems.push(`${where}: figure ${f.id} was not drawn${f.message ? ` (${f.message})` : ""}`);
      continue;
    }
    if (f.traces === 0 || f.drawn === 0) problems.push(`${where}: figure ${f.id} has no data traces drawn`);
    const file = path.join(SCREENSHOTS, `${screenshotPrefix}-figure-${i + 1}.png`);
    await handle.screenshot({ path: file, timeout: 10_000 }).catch((error) => problems.push(`${where}: no screenshot of figure ${i + 1}: ${error.message.split("\n")[0]}`));
  }
  return { figures: handles.length, problems };
}

/**
 * Moves each slider of the first figure that has sliders (to its far end) and checks that the bars
 * changed each time: with two sliders (temperature and top-k), each must redraw the bars.
 */
export async function checkSlider(page, where) {
  const figure = await page.$(".gpt2-lab-figure:has(.slider-container)");
  if (!figure) return [];
  const problems = [];
  const rails = await figure.$$(".slider-rail-rect");
  for (const [i, rail] of rails.entries()) {
    await figure.evaluate((el) => {
      el.dataset.before = JSON.stringify(el.data[0].y);
    });
    await rail.scrollIntoViewIfNeeded();
    const box = await rail.boundingBox();
    await page.mouse.click(box.x + box.width - 2, box.y + box.height / 2);
    const changed = await page
      .waitForFunction((el) => JSON.stringify(el.data[0].y) !== el.dataset.before, figure, { timeout: 5000 })
      .then(() => true)
      .catch(() => false);
    if (!changed) problems.push(`${where}: clicking slider ${i + 1} of ${rails.length} did not change the bars`);
  }
  return problems;
}

/**
 * The first drawn figure without a fixed width, scrolled into view (a page may skip the layout of
 * what is out of view, `content-visibility: auto`, and nothing resizes there); null if none.
 */
export async function fluidFigureInView(page) {
  const figure = await page.evaluateHandle(() => [...document.querySelectorAll(".gpt2-lab-figure")].find((el) => el._fullLayout && !el.layout.width) ?? null);
  if (!(await figure.evaluate((el) => el !== null))) return null;
  await figure.evaluate((el) => el.scrollIntoView({ block: "center" }));
  return figure;
}

/**
 * Narrows the box around a figure without a fixed width, as a side panel opening does (the window
 * keeps its size), and checks that the figure follows it.
 */
export async function checkResize(page, where) {
  const figure = await fluidFigureInView(page);
  if (!figure) return [];
  const before = await figure.evaluate((el) => {
    el.parentElement.style.maxWidth = "600px";
    return el._fullLayout.width;
  });
  const followed = await page
    .waitForFunction((el) => el._fullLayout.width <= 600, figure, { timeout: 5000 })
    .then(() => true)
    .catch(() => false);
  await figure.evaluate((el) => (el.parentElement.style.maxWidth = ""));
  return followed ? [] : [`${where}: a figure kept its width (${before} px) when the box around it narrowed to 600 px`];
}
