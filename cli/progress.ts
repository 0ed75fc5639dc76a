// A download progress bar for terminals: turns the `onProgress` events of resolveModelFiles into
// one cli-progress bar per file on stderr, with bytes, speed and time left. Only the CLI uses it
// (the library itself never prints); a notebook builds its own display from the same events.
// Draws nothing when stderr is not a terminal (piped or redirected output stays clean).
import { SingleBar } from "cli-progress";
import type { DownloadProgress } from "../lib/hub/download";

/** Bytes in decimal units as the Hub shows them: `950 B`, `12.3 kB`, `548 MB`, `6.43 GB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`Expected \`bytes\` to be a non-negative number, got \`${bytes}\``);
  const units = ["B", "kB", "MB", "GB", "TB"];
  let unit = 0;
  let value = bytes;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${Math.round(bytes)} B`;
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${units[unit]}`;
}

export interface TerminalProgressOptions {
  /** Where to draw. @default process.stderr */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Redraws per second at most. @default 10 */
  fps?: number;
}

/** A progress callback that also has `stop()`, to close an unfinished bar (e.g. after an error). */
export type TerminalProgress = ((event: DownloadProgress) => void) & { stop(): void };

/** Window over which speed is averaged, in milliseconds. */
const SPEED_WINDOW_MS = 5000;

/**
 * Returns an `onProgress` callback that draws `file [=====-----] 41% | 210 MB / 548 MB | 12.5 MB/s | ETA 27s`.
 * A new file closes the previous bar; a file reaching its total closes its own.
 */
export function terminalProgress({ stream = process.stderr, fps = 10 }: TerminalProgressOptions = {}): TerminalProgress {
  let bar: SingleBar | undefined;
  let current: string | undefined;
  let samples: { time: number; loaded: number }[] = [];
  let lastDraw = 0;
  let waitingFor: string | undefined;

  const stop = () => {
    bar?.stop();
    bar = undefined;
    current = undefined;
  };

  const onProgress = (event: DownloadProgress) => {
    const now = Date.now();
    // Waiting on another process: said once, in words, instead of a bar frozen at "ETA ∞".
    if (event.waiting) {
      if (waitingFor !== event.file) {
        stop();
        waitingFor = event.file;
        stream.write(`${event.file}: waiting: ${event.waiting}\n`);
      }
      return;
    }
    if (event.file !== current) {
      stop();
      current = event.file;
      samples = [{ time: now, loaded: event.loaded }];
      bar = new SingleBar({
        stream: stream as NodeJS.WriteStream,
        fps,
        etaBuffer: 50,
        hideCursor: true,
        format: "{file} [{bar}] {percentage}% | {loadedText} / {totalText} | {speed} | ETA {eta_formatted}",
      });
      bar.start(event.total, event.loaded, payload(event, "…"));
    }
    const done = event.loaded >= event.total;
    // cli-progress averages its ETA over its last `etaBuffer` updates: feeding it every network
    // chunk would make that window milliseconds long, so updates are spaced like redraws.
    if (!done && now - lastDraw < 1000 / fps) return;
    lastDraw = now;
    samples.push({ time: now, loaded: event.loaded });
    while (samples.length > 2 && now - samples[0].time > SPEED_WINDOW_MS) samples.shift();
    const first = samples[0];
    const seconds = (now - first.time) / 1000;
    const speed = seconds > 0 ? `${formatBytes(Math.max(0, event.loaded - first.loaded) / seconds)}/s` : "…";
    bar?.setTotal(event.total);
    bar?.update(event.loaded, payload(event, speed));
    if (done) stop();
  };
  return Object.assign(onProgress, { stop });
}

function payload(event: DownloadProgress, speed: string) {
  return { file: event.file, loadedText: formatBytes(event.loaded), totalText: formatBytes(event.total), speed };
}
