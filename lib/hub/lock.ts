// A lock shared between processes, so that two programs fetching the same blob into the cache at
// once do not write the same file. Uses proper-lockfile: the lock is a folder made with mkdir
// (atomic on every file system) whose modification time the owner refreshes; a lock not refreshed
// for `staleMs` (its process died) is taken over. Waiting is a polling loop so the caller can watch
// what the owner is doing (e.g. report its download's progress). No fairness between waiters.
import * as fs from "node:fs";
import * as path from "node:path";

/** Age in milliseconds after which a lock nobody refreshes counts as abandoned (its process died). */
export const LOCK_STALE_MS = 20_000;

export interface FileLockOptions {
  /** Age in milliseconds after which a lock nobody refreshes counts as abandoned. @default LOCK_STALE_MS */
  staleMs?: number;
  /** Pause between attempts while another process holds the lock, in milliseconds. @default 250 */
  pollMs?: number;
  /**
   * Called before each pause while waiting; return `true` to stop waiting without the lock
   * (e.g. the file the owner was making is now there). @default never stops early
   */
  onWait?: () => boolean | Promise<boolean>;
}

/** What `withFileLock` did: ran `task` under the lock, or stopped waiting because `onWait` said so. */
export type LockOutcome<T> = { ran: true; value: T } | { ran: false };

/**
 * Runs `task` while holding the lock folder `lockPath` (its parent folder is created), and
 * releases it afterwards, also when `task` throws. If the lock is lost while `task` runs (another
 * process judged it stale), `task` still finishes but its result is replaced by the error.
 */
export async function withFileLock<T>(
  lockPath: string,
  task: () => Promise<T>,
  { staleMs = LOCK_STALE_MS, pollMs = 250, onWait }: FileLockOptions = {},
): Promise<LockOutcome<T>> {
  fs.mkdirSync(path.dirname(lockPath), { recursive: true });
  // Loaded on first use: proper-lockfile installs exit and signal hooks (to remove held locks)
  // as soon as it is loaded, and most programs importing gpt2-lab never download anything.
  const { lock } = await import("proper-lockfile");
  let lost: Error | undefined;
  let release: () => Promise<void>;
  for (;;) {
    try {
      // proper-lockfile locks "a file" by making `${file}.lock`; with `lockfilePath` and
      // `realpath: false` the file itself need not exist, only the lock folder is made.
      release = await lock(lockPath, {
        lockfilePath: lockPath,
        realpath: false,
        stale: staleMs,
        retries: 0,
        onCompromised: (error) => {
          lost = error;
        },
      });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
      if (onWait && (await onWait())) return { ran: false };
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
  try {
    const value = await task();
    if (lost) throw new Error(`Lost the lock ${lockPath} while working (another process took it over): ${lost.message}`);
    return { ran: true, value };
  } finally {
    if (!lost) await release().catch(() => undefined);
  }
}
