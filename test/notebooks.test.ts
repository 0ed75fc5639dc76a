// The committed notebooks: clean (no outputs, no execution counts), on the tslab kernel, and shaped as
// the style guide asks (the library imported and the model loaded in the first code cell, exercises
// with a TODO, closing Questions and Going further). Running them is test/notebooks/run-notebooks.py.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { courseHashes, ngramHashes } from "./notebooks/course-ngrams";

interface Cell {
  cell_type: "code" | "markdown" | "raw";
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
}
interface Notebook {
  cells: Cell[];
  metadata: { kernelspec?: { name: string } };
}

const dir = path.join(__dirname, "..", "..", "notebooks");
const names = fs.readdirSync(dir).filter((n) => n.endsWith(".ipynb")).sort();
const course = courseHashes();
const text = (cell: Cell) => (Array.isArray(cell.source) ? cell.source.join("") : cell.source);

test("the course's notebooks are there", () => {
  for (const name of ["00-typescript-for-python-users.ipynb", "01-what-are-llms.ipynb", "02-generating-with-gpt2.ipynb", "03-inside-gpt2.ipynb", "04-temperature-and-top-k.ipynb", "05-decoding-strategies.ipynb", "06-why-this-token.ipynb"]) {
    assert.ok(names.includes(name), `notebooks/${name} is missing`);
  }
});

for (const name of names) {
  const notebook = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8")) as Notebook;
  const code = notebook.cells.filter((c) => c.cell_type === "code");
  const markdown = notebook.cells.filter((c) => c.cell_type === "markdown").map(text);

  test(`${name}: committed without outputs or execution counts`, () => {
    for (const [i, cell] of code.entries()) {
      assert.deepEqual(cell.outputs, [], `code cell ${i} has outputs; run \`npm run notebooks:clean\``);
      assert.equal(cell.execution_count, null, `code cell ${i} has an execution count; run \`npm run notebooks:clean\``);
    }
  });

  test(`${name}: tslab kernel, library imported and model loaded in the first code cell`, () => {
    assert.equal(notebook.metadata.kernelspec?.name, "tslab");
    const first = text(code[0]);
    assert.match(first, /^import \* as lab from "\.\.\/dist\/lib";$/m);
    assert.match(first, /process\.env\.GPT2_LAB_MODEL/);
    assert.equal(code.filter((c) => /loadModel/.test(text(c))).length, 1, "the model is loaded once");
  });

  test(`${name}: no code line over 100 characters (\`npm run notebooks:format\`)`, () => {
    for (const [i, cell] of code.entries()) {
      const long = text(cell).split("\n").filter((line) => line.length > 100);
      assert.deepEqual(long, [], `code cell ${i}`);
    }
  });

  test(`${name}: no run of six words from the course's text (its prose is retold, never copied)`, () => {
    const copied = notebook.cells.flatMap((cell) => ngramHashes(text(cell)).filter(({ hash }) => course.has(hash)).map(({ run }) => run));
    assert.deepEqual([...new Set(copied)], [], "runs of six words that the course has too");
  });

  test(`${name}: ends with Questions and Going further; every exercise has a TODO`, () => {
    assert.match(markdown.at(-2) ?? "", /^## Questions/);
    assert.match(markdown.at(-1) ?? "", /^## Going further/);
    notebook.cells.forEach((cell, i) => {
      if (cell.cell_type === "markdown" && text(cell).startsWith("### ✏️ Try it")) {
        const next = notebook.cells[i + 1];
        assert.equal(next?.cell_type, "code", `the exercise in cell ${i} is followed by code`);
        assert.match(text(next), /\/\/ TODO/, `the exercise in cell ${i} has a TODO`);
        assert.match(text(next), /✓/, `the exercise in cell ${i} has a self-check`);
      }
    });
  });
}
