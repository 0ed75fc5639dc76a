// The shared argument checks: one message format (name, what was expected, what came in), the
// error type by kind of mistake, and the near-miss suggestion for unknown options.
import assert from "node:assert/strict";
import { test } from "node:test";
import { expectInteger, expectNumberList, expectOneOf, expectOptions, expectString, received } from "../lib/checks";

test("received values are shown with their type", () => {
  assert.equal(received(1.5), "`1.5` (number)");
  assert.equal(received("3"), '`"3"` (string)');
  assert.equal(received(null), "`null` (null)");
  assert.equal(received([1, 2]), "`[ 1, 2 ]` (array)");
  assert.ok(received("x".repeat(500)).length < 100, "long values are shortened");
});

test("integers: TypeError for a non-number, RangeError on both sides of each edge", () => {
  assert.throws(() => expectInteger("1", "n", 1), { name: "TypeError", message: 'Expected `n` to be a positive integer, got `"1"` (string)' });
  assert.throws(() => expectInteger(0, "n", 1), { name: "RangeError", message: "Expected `n` to be a positive integer, got `0` (number)" });
  assert.throws(() => expectInteger(1.5, "n", 1), RangeError);
  assert.throws(() => expectInteger(4, "k", 1, 3), { message: "Expected `k` to be an integer in [1, 3], got `4` (number)" });
  assert.doesNotThrow(() => expectInteger(1, "n", 1));
  assert.doesNotThrow(() => expectInteger(3, "k", 1, 3));
});

test("lists, strings and choices", () => {
  assert.throws(() => expectNumberList([], "xs", "numbers > 0", (x) => x > 0), RangeError);
  assert.throws(() => expectNumberList([1, 0], "xs", "numbers > 0", (x) => x > 0), { message: /`xs\[1\]` to be numbers > 0, got `0`/ });
  assert.throws(() => expectString("", "dir", true), TypeError);
  assert.throws(() => expectOneOf("tpu", "device", ["cpu", "cuda"]), { name: "RangeError", message: "Expected `device` to be one of 'cpu', 'cuda', got `\"tpu\"` (string)" });
});

test("unknown options list the known ones and suggest a near miss", () => {
  assert.throws(() => expectOptions({ devise: "cpu" }, "options", ["device", "dtype"]), {
    name: "TypeError",
    message: "Unknown option `devise`; expected one of device, dtype; did you mean `device`?",
  });
  assert.throws(() => expectOptions({ zzz: 1 }, "options", ["device"]), { message: "Unknown option `zzz`; expected one of device" });
  assert.throws(() => expectOptions(5, "options", ["device"]), TypeError);
  assert.doesNotThrow(() => expectOptions(undefined, "options", ["device"]));
});
