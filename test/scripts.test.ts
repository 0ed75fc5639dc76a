// The shell scripts that set up and test the project: each one parses, and CI's script ends with the
// test command the README gives, so what CI runs is what a user is told to run.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";

const root = path.join(__dirname, "..", "..");
const scripts = [".ci/run", ...fs.readdirSync(path.join(root, "scripts")).filter((f) => f.endsWith(".sh")).map((f) => `scripts/${f}`)];

test("every shell script parses (bash -n)", () => {
  assert.ok(scripts.length >= 5, `found ${scripts.join(", ")}`);
  for (const script of scripts) {
    try {
      execFileSync("bash", ["-n", path.join(root, script)], { stdio: "pipe" });
    } catch (error) {
      assert.fail(`${script} does not parse: ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
    }
  }
});

test(".ci/run ends with the README's test command", () => {
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
  const testLine = /^(\S.*?)\s+# run the tests$/m.exec(readme);
  assert.ok(testLine, "README.md has a line `<command>  # run the tests`");
  const commands = fs.readFileSync(path.join(root, ".ci/run"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  assert.equal(commands.at(-1), testLine[1]);
});
