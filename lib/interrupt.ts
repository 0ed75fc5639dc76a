// Stopping long work when a Jupyter kernel is interrupted. The ■ button sends the kernel SIGINT;
// tslab catches it and abandons the awaited promise of the cell, but the work behind that promise
// would run on (a generation to its last token, a download to its last byte). So while a
// generation, an inspection, a download or a conversion is in flight, gpt2-lab listens for SIGINT
// too and stops it between two steps. Only in a tslab kernel, or a process where something else
// already handles SIGINT: elsewhere SIGINT ends the process, as usual, and nothing is installed.

import { inTslabKernel, noteInterrupted, shortenForCell } from "./display";

/** The error that interrupted work ends with; `name` is "AbortError", as for an aborted fetch. */
export class InterruptedError extends Error {
  override name = "AbortError";
}

// The work in flight, each with what it is; one SIGINT listener serves them all, so that one
// interrupt ends a cell with one note however many generations it had started.
const inFlight = new Map<AbortController, string>();
let listening = false;

function onInterrupt(): void {
  const whats = [...new Set(inFlight.values())];
  for (const [controller, what] of inFlight) controller.abort(new InterruptedError(`Interrupted: the ${what} stopped`));
  noteInterrupted(`■ interrupted: the ${whats.join(", the ")} stopped`);
}

/** Listens for SIGINT exactly while work is in flight. */
function updateListener(): void {
  const wanted = inFlight.size > 0;
  if (wanted === listening) return;
  if (wanted) process.on("SIGINT", onInterrupt);
  else process.off("SIGINT", onInterrupt);
  listening = wanted;
}

/**
 * Runs `work` with a signal that aborts when the kernel is interrupted, or when `outer` aborts.
 * `what` names the work in the error, e.g. "generation".
 */
export async function interruptible<T>(what: string, work: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal): Promise<T> {
  const kernel = inTslabKernel();
  if (!kernel && process.listenerCount("SIGINT") === 0) return work(outer ?? new AbortController().signal);
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(outer!.reason);
  inFlight.set(controller, what);
  // tslab runs a cell's first synchronous part (up to its first `await`) in `vm` with `breakOnSigint`:
  // Node removes every SIGINT listener for that time, lets a native watchdog take SIGINT, and puts the
  // listeners back afterwards. No listener would let the work run on after ■; one added inside that
  // window starts libuv's SIGINT handler, which the watchdog resets to the default on leaving, so ■
  // would end the kernel. A kernel without listeners is in that window: listen from the next
  // microtask, which runs once the window has closed.
  if (kernel && process.listenerCount("SIGINT") === 0) queueMicrotask(updateListener);
  else updateListener();
  outer?.addEventListener("abort", onOuterAbort);
  if (outer?.aborted) onOuterAbort();
  try {
    return await work(controller.signal);
  } catch (error) {
    throw kernel ? shortenForCell(error) : error;
  } finally {
    inFlight.delete(controller);
    updateListener();
    outer?.removeEventListener("abort", onOuterAbort);
  }
}

/** Throws the signal's reason if it has aborted (an AbortError saying `message` when the reason is no Error). */
export function checkAborted(signal: AbortSignal | undefined, message = "Aborted"): void {
  if (!signal?.aborted) return;
  const reason = signal.reason;
  if (reason instanceof Error) throw reason;
  const error = new Error(message);
  error.name = "AbortError";
  throw error;
}
