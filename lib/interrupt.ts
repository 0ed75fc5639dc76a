// Stopping long work when a Jupyter kernel is interrupted. The ■ button sends the kernel SIGINT;
// tslab catches it and abandons the awaited promise of the cell, but the work behind that promise
// would run on (a generation to its last token, a download to its last byte). So while a
// generation, an inspection, a download or a conversion is in flight, gpt2-lab listens for SIGINT
// too and stops it between two steps. Only in a process where something else already handles
// SIGINT (a kernel): elsewhere SIGINT ends the process, as usual, and nothing is installed.

import { noteInterrupted } from "./display";

/** The error that interrupted work ends with; `name` is "AbortError", as for an aborted fetch. */
export class InterruptedError extends Error {
  override name = "AbortError";
}

/**
 * Runs `work` with a signal that aborts when the kernel is interrupted, or when `outer` aborts.
 * `what` names the work in the error, e.g. "generation".
 */
export async function interruptible<T>(what: string, work: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal): Promise<T> {
  if (process.listenerCount("SIGINT") === 0) return work(outer ?? new AbortController().signal);
  const controller = new AbortController();
  const onInterrupt = () => {
    controller.abort(new InterruptedError(`Interrupted: the ${what} stopped`));
    noteInterrupted(`■ interrupted: the ${what} stopped`);
  };
  const onOuterAbort = () => controller.abort(outer!.reason);
  process.on("SIGINT", onInterrupt);
  outer?.addEventListener("abort", onOuterAbort);
  if (outer?.aborted) onOuterAbort();
  try {
    return await work(controller.signal);
  } finally {
    process.off("SIGINT", onInterrupt);
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
