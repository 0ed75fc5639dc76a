// The argument checks every public function uses, so that every bad value gets the same kind of
// message: what was expected of which name, and what came in, e.g.
//   Expected `topK` to be a non-negative integer, got `1.5` (number)
// `TypeError` for a value of the wrong type, `RangeError` for a value of the right type that is out
// of range (as in pmap and onnxruntime's js/common). Options objects also reject unknown keys.
import { inspect } from "node:util";

/** A received value as error messages show it: `` `1.5` (number) ``, `` `"3"` (string) ``, shortened. */
export function received(value: unknown): string {
  const shown =
    typeof value === "string" && value.length <= 40
      ? JSON.stringify(value)
      : inspect(value, { depth: 1, breakLength: Infinity, maxArrayLength: 5, maxStringLength: 40 });
  const type = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  return `\`${shown.length > 80 ? shown.slice(0, 77) + "..." : shown}\` (${type})`;
}

/** The error for `name` not being `expected`; `hint` (after a semicolon) says how to fix it. */
export function invalid(ErrorType: typeof TypeError | typeof RangeError, name: string, expected: string, value: unknown, hint?: string): Error {
  return new ErrorType(`Expected \`${name}\` to be ${expected}, got ${received(value)}${hint ? `; ${hint}` : ""}`);
}

/** An integer in [min, max]: `TypeError` for a non-number, `RangeError` otherwise. */
export function expectInteger(value: unknown, name: string, min = -Infinity, max = Infinity, hint?: string): asserts value is number {
  const expected =
    max === Infinity
      ? min === -Infinity ? "an integer" : min === 0 ? "a non-negative integer" : min === 1 ? "a positive integer" : `an integer >= ${min}`
      : `an integer in [${min}, ${max}]`;
  if (typeof value !== "number") throw invalid(TypeError, name, expected, value, hint);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw invalid(RangeError, name, expected, value, hint);
}

/** A number accepted by `ok` (e.g. `(x) => x > 0`), described by `expected` ("a finite number > 0"). */
export function expectNumber(value: unknown, name: string, expected: string, ok: (x: number) => boolean, hint?: string): asserts value is number {
  if (typeof value !== "number") throw invalid(TypeError, name, expected, value, hint);
  if (!ok(value)) throw invalid(RangeError, name, expected, value, hint);
}

/** A non-empty array of numbers, each accepted by `ok`. */
export function expectNumberList(values: unknown, name: string, expected: string, ok: (x: number) => boolean): asserts values is number[] {
  if (!Array.isArray(values)) throw invalid(TypeError, name, `an array of ${expected}`, values);
  if (values.length === 0) throw invalid(RangeError, name, `a non-empty array of ${expected}`, values);
  values.forEach((x, i) => expectNumber(x, `${name}[${i}]`, expected, ok));
}

export function expectBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== "boolean") throw invalid(TypeError, name, "a boolean", value);
}

/** A string; with `nonEmpty`, also not "". */
export function expectString(value: unknown, name: string, nonEmpty = false): asserts value is string {
  if (typeof value !== "string") throw invalid(TypeError, name, nonEmpty ? "a non-empty string" : "a string", value);
  if (nonEmpty && value === "") throw invalid(TypeError, name, "a non-empty string", value);
}

export function expectFunction(value: unknown, name: string): void {
  if (typeof value !== "function") throw invalid(TypeError, name, "a function", value);
}

/** One of `choices`; the message lists them. */
export function expectOneOf<T>(value: unknown, name: string, choices: readonly T[]): asserts value is T {
  if (!choices.includes(value as T)) {
    throw invalid(RangeError, name, `one of ${choices.map((c) => `'${String(c)}'`).join(", ")}`, value);
  }
}

/**
 * An options object (or undefined) whose keys are all in `known`. An unknown key is a `TypeError`
 * that lists the known ones and, when one is a near miss (`devise` for `device`), suggests it.
 */
export function expectOptions(options: unknown, name: string, known: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null || Array.isArray(options)) throw invalid(TypeError, name, "an object", options);
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = known.find((k) => editDistance(k, key) <= 2);
    throw new TypeError(`Unknown option \`${key}\`; expected one of ${known.join(", ")}${near ? `; did you mean \`${near}\`?` : ""}`);
  }
}

/** Levenshtein distance, for suggesting the option a typo meant. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
