// What any page check needs (test/notebooks/lab-check.mjs and its helpers): Chromium's settings, a
// free port, a page that may reach only this machine, waiting for a Jupyter server to answer, and the
// checks that every gpt2-lab figure on a page drew, that its sliders move its bars, that it follows
// its container's width and that it lays out at 600 and 1200 px. Screenshots go to build/screenshots/.
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

/**
 * Lays out every gpt2-lab figure of the page at 600 and at 1200 px wide (a figure with a fixed width
 * at that width only), screenshots it each time, and reads what plotly laid out: a title wider than
 * the figure or cut at its edges or top, a menu over the title, a slider without its handle or reaching past the figure's bottom,
 * an axis that shows tick labels but fewer than two of them (over at least two categories), or
 * text under 11 px is a problem. Read from the figure's own layout and SVG, not from pixels.
 */
export async function checkLayouts(page, where, screenshotPrefix) {
  const handles = await page.$$(".gpt2-lab-figure");
  const problems = [];
  for (const [i, handle] of handles.entries()) {
    const fixed = await handle.evaluate((el) => (el._fullLayout ? (el.layout.width ?? null) : undefined));
    if (fixed === undefined) continue; // not drawn: checkFigures reports it
    for (const width of fixed ? [fixed] : [600, 1200]) {
      if (!fixed) {
        await handle.evaluate((el, w) => {
          el.style.width = `${w}px`;
          return window.Plotly?.Plots?.resize(el);
        }, width);
        await page.waitForFunction(([el, w]) => Math.abs(el._fullLayout.width - w) < 2, [handle, width], { timeout: 5000 }).catch(() => problems.push(`${where}, figure ${i + 1}: did not lay out at ${width} px`));
      }
      await handle.scrollIntoViewIfNeeded().catch(() => undefined);
      await handle
        .screenshot({ path: path.join(SCREENSHOTS, `${screenshotPrefix}-figure-${i + 1}-${width}px.png`), timeout: 10_000 })
        .catch((error) => problems.push(`${where}: no ${width} px screenshot of figure ${i + 1}: ${error.message.split("\n")[0]}`));
      const found = await handle.evaluate((el) => {
        const out = [];
        const layout = el._fullLayout;
        const svg = el.querySelector(".main-svg");
        if (!svg) return out;
        const box = svg.getBoundingClientRect();
        const title = el.querySelector(".gtitle");
        if (title && title.textContent.trim()) {
          const b = title.getBoundingClientRect();
          if (b.left < box.left - 1 || b.right > box.left + layout.width + 1) out.push(`the title is cut (${Math.round(b.width)} px of text in ${layout.width} px)`);
          if (b.top < box.top - 1) out.push("the title is cut at the top");
          for (const menu of el.querySelectorAll(".updatemenu-header-group")) {
            const m = menu.getBoundingClientRect();
            if (m.left < b.right && m.right > b.left && m.top < b.bottom && m.bottom > b.top) out.push(`a menu covers the title ("${title.textContent.trim().slice(0, 40)}")`);
          }
        }
        const sliders = [...el.querySelectorAll(".slider-group")];
        (layout.sliders ?? []).forEach((_, k) => {
          const grip = sliders[k]?.querySelector(".slider-grip-rect");
          if (!grip) return out.push(`slider ${k + 1} has no handle`);
          const g = grip.getBoundingClientRect();
          if (g.height === 0 || g.bottom > box.top + layout.height + 1) out.push(`slider ${k + 1}'s handle lies outside the figure`);
        });
        for (const [name, axis] of Object.entries(layout)) {
          if (!/^[xy]axis\d*$/.test(name) || !axis.visible || !axis.showticklabels) continue;
          const labelled = (axis._vals ?? []).filter((v) => typeof v.text === "string" && v.text.trim() !== "");
          const spans = axis.type !== "category" || (axis._categories?.length ?? 0) >= 2;
          if (spans && labelled.length < 2) out.push(`${name} ("${axis.title?.text ?? ""}") shows ${labelled.length} labelled tick`);
        }
        const small = [...svg.parentElement.querySelectorAll("svg text")].filter((t) => t.textContent.trim() && parseFloat(getComputedStyle(t).fontSize) < 10.95);
        if (small.length > 0) out.push(`${small.length} texts under 11 px, e.g. "${small[0].textContent.trim().slice(0, 20)}" at ${getComputedStyle(small[0]).fontSize}`);
        return out;
      });
      problems.push(...found.map((p) => `${where}, figure ${i + 1} at ${width} px: ${p}`));
    }
    if (!fixed) await handle.evaluate((el) => (el.style.width = ""));
  }
  return problems;
}
