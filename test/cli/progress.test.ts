// Tests for cli/progress.ts: byte formatting, and the terminal bar drawn into a fake terminal.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Writable } from "node:stream";
import { formatBytes, terminalProgress } from "../../cli/progress";

/** A writable that says it is a 100-column terminal and keeps what is written. */
function fakeTerminal(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  // Each redraw starts by moving to column 1 (ESC [1G): that becomes a line break here.
  const text = () => chunks.join("").replace(/\x1b\[1G/g, "\n").replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, "");
  return Object.assign(stream, { isTTY, columns: 100, text });
}

test("formatBytes uses decimal units with three significant digits", () => {
  const table: [number, string][] = [
    [0, "0 B"],
    [999, "999 B"],
    [1000, "1.00 kB"],
    [12_345, "12.3 kB"],
    [548_105_171, "548 MB"],
    [6_431_000_000, "6.43 GB"],
    [2.5e15, "2500 TB"],
  ];
  for (const [bytes, text] of table) assert.equal(formatBytes(bytes), text);
  assert.throws(() => formatBytes(-1), RangeError);
  assert.throws(() => formatBytes(Number.NaN), RangeError);
});

test("terminalProgress draws one bar per file with bytes, speed and ETA", () => {
  const terminal = fakeTerminal(true);
  const progress = terminalProgress({ stream: terminal, fps: 1000 });
  progress({ file: "config.json", loaded: 0, total: 600 });
  progress({ file: "config.json", loaded: 600, total: 600 });
  progress({ file: "model.safetensors", loaded: 0, total: 2_000_000 });
  // Speed needs time to pass between two updates; on a fast machine both can land in one millisecond.
  const start = Date.now();
  while (Date.now() - start < 3);
  progress({ file: "model.safetensors", loaded: 2_000_000, total: 2_000_000 });
  const lines = terminal.text().split("\n").map((line) => line.trim()).filter(Boolean);
  const last = (file: string) => lines.filter((line) => line.startsWith(file)).at(-1) ?? "";
  assert.match(last("config.json"), /^config\.json \[=+\] 100% \| 600 B \/ 600 B \| .+ \| ETA /);
  assert.match(last("model.safetensors"), /^model\.safetensors \[=+\] 100% \| 2\.00 MB \/ 2\.00 MB \| [\d.]+ [kMG]?B\/s \| ETA 0s$/);
});

test("terminalProgress draws nothing when the stream is not a terminal", () => {
  const pipe = fakeTerminal(false);
  const progress = terminalProgress({ stream: pipe });
  progress({ file: "model.safetensors", loaded: 0, total: 10 });
  progress({ file: "model.safetensors", loaded: 10, total: 10 });
  progress.stop();
  assert.equal(pipe.text(), "");
});

test("waiting on another process's download is said once, in words, not drawn as a frozen bar", () => {
  const terminal = fakeTerminal(true);
  const progress = terminalProgress({ stream: terminal, fps: 1000 });
  const waiting = "another process holds its download lock (/c/x.lockdir), last refreshed 3 s ago; it is taken over once 20 s pass without a refresh";
  for (let i = 0; i < 3; i++) progress({ file: "model.safetensors", loaded: 1000, total: 5000, waiting });
  progress.stop();
  const text = terminal.text();
  assert.equal(text.split("waiting:").length - 1, 1);
  assert.match(text, /model\.safetensors: waiting: another process holds its download lock/);
  assert.doesNotMatch(text, /ETA/);
});
