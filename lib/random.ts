// Seeded random numbers: every draw in gpt2-lab comes from a `Random` made from an explicit seed,
// so the same seed gives the same samples on every run and machine. Backed by pure-rand's
// xoroshiro128+ (53-bit uniform doubles); normals by the Box-Muller transform.
// There is no global generator: callers make one and pass it down.
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";

/** A seeded source of random numbers. */
export interface Random {
  /** A uniform double in [0, 1). */
  uniform(): number;
  /** A standard normal draw (mean 0, standard deviation 1). */
  normal(): number;
}

/** Makes a generator from an integer seed (any safe integer; only its low 32 bits matter). */
export function createRandom(seed: number): Random {
  if (!Number.isSafeInteger(seed)) {
    throw new TypeError(`Expected \`seed\` to be an integer, got \`${seed}\` (${typeof seed})`);
  }
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
