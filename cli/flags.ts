// Parsing flag values (numbers, one of a list), with errors that name the flag and the value.
import { UsageError } from "./command";

/** An integer flag (any sign), or `fallback` when absent. */
export function integerFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n)) throw new UsageError(`${name} must be an integer, got \`${value}\``);
  return n;
}

/** A number flag, or `fallback` when absent. */
export function numberFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || Number.isNaN(n)) throw new UsageError(`${name} must be a number, got \`${value}\``);
  return n;
}

/** A flag that must be one of `allowed`. */
export function oneOfFlag<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new UsageError(`${name} must be one of ${allowed.join(", ")}, got \`${value ?? ""}\``);
  return value as T;
}
