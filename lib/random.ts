// Seeded random numbers: every draw in gpt2-lab comes from a `Random` made from an explicit seed,
// so the same seed gives the same samples on every run and machine. Backed by pure-rand's
// xoroshiro128+ (53-bit uniform doubles); normals by the Box-Muller transform.
// There is no global generator: callers make one and pass it down.
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { expectInteger } from "./checks";

/**
 * The largest seed, 2^32 − 1: xoroshiro128+ here takes a 32-bit seed, so seeds from 0 to this one
 * each give a stream of their own, and no larger one could.
 */
export const MAX_SEED = 2 ** 32 - 1;

/** A seeded source of random numbers. */
export interface Random {
  /** A uniform double in [0, 1). */
  uniform(): number;
  /** A standard normal draw (mean 0, standard deviation 1). */
  normal(): number;
}

/** Makes a generator from a seed, an integer from 0 to {@link MAX_SEED}; each seed gives its own stream. */
export function createRandom(seed: number): Random {
  expectInteger(seed, "seed", 0, MAX_SEED);
  // The generator reads its seed as a signed 32-bit integer: one to one with [0, 2^32 − 1].
  const rng = xoroshiro128plus(seed | 0);
  let spare: number | null = null;
  const uniform = () => uniformFloat64(rng);
  return {
    uniform,
    normal() {
      if (spare !== null) {
        const value = spare;
        spare = null;
        return value;
      }
      // Box-Muller: two uniforms give two independent normals; 1 - u keeps the log finite.
      const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
      const angle = 2 * Math.PI * uniform();
      spare = radius * Math.sin(angle);
      return radius * Math.cos(angle);
    },
  };
}
