// Long generations: the time per token early and late in a generation, for each library, so that
// the growth that comes with the key/value cache's length shows (the weights cost the same at every
// position; attention over the cache adds a little). Each contender runs each workload once per
// round, in a rotated order; each step's time is when its tokens appear.
import type { Contender, Workload } from "./contenders";
import { median } from "./machine";

/** A position range [from, to) of new tokens whose mean time per token is reported. */
export interface PositionRange {
  from: number;
  to: number;
}

export interface LongWorkload {
  workload: Workload;
  early: PositionRange;
  late: PositionRange;
}

export interface LongResult {
  workload: string;
  contender: string;
  early: PositionRange;
  late: PositionRange;
  /** Median over rounds, ms per token (per step of the batch). */
  earlyMs: number;
  lateMs: number;
  /** lateMs / earlyMs, median of the per-round ratios. */
  growth: number;
  /** Whole runs, ms, median. */
  totalMs: number;
}

/** Runs every contender on every workload `rounds` times and reports per-token times by range. */
export async function measureLong(contenders: Contender[], workloads: LongWorkload[], rounds: number, log: (line: string) => void): Promise<LongResult[]> {
  const results: LongResult[] = [];
  for (const { workload, early, late } of workloads) {
    log(`long generation, ${workload.name}: ${rounds} rounds of ${contenders.length} runs`);
    const perContender = contenders.map(() => ({ early: [] as number[], late: [] as number[], growth: [] as number[], total: [] as number[] }));
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < contenders.length; k++) {
        const c = (round + k) % contenders.length;
        (globalThis as { gc?: () => void }).gc?.();
        const times: number[] = [];
        const start = performance.now();
        await contenders[c].run(workload, round + 1, (step) => (times[step] = performance.now()));
        const total = performance.now() - start;
        const perToken = ({ from, to }: PositionRange) => (at(times, to) - at(times, from)) / (to - from);
        const m = perContender[c];
        m.early.push(perToken(early));
        m.late.push(perToken(late));
        m.growth.push(perToken(late) / perToken(early));
        m.total.push(total);
      }
    }
    contenders.forEach((contender, c) => {
      const m = perContender[c];
      results.push({ workload: workload.name, contender: contender.label, early, late, earlyMs: median(m.early), lateMs: median(m.late), growth: median(m.growth), totalMs: median(m.total) });
    });
  }
  return results;
}

/** The time of step `i`, or of the nearest earlier step that was seen (a step can end inside a character and show no text). */
function at(times: number[], i: number): number {
  for (let j = i; j >= 0; j--) if (times[j] !== undefined) return times[j];
  throw new Error(`no step up to ${i} was timed`);
}
