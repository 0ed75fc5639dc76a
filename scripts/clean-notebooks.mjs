// `npm run notebooks:clean`: removes outputs, execution counts and per-run cell metadata from
// notebooks/*.ipynb, so that they are committed clean (outputs are rebuilt by running them).
// `--check` changes nothing and exits 1 if a notebook is not clean. Writes Jupyter's own layout
// (one-space indent, trailing newline) so that a notebook saved by Jupyter and then cleaned diffs small.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUN_METADATA = ["execution", "collapsed", "scrolled", "ExecuteTime"];
const check = process.argv.includes("--check");
const dir = path.join(ROOT, "notebooks");

let dirty = 0;
for (const name of fs.readdirSync(dir).filter((n) => n.endsWith(".ipynb")).sort()) {
  const file = path.join(dir, name);
  const before = fs.readFileSync(file, "utf8");
  const notebook = JSON.parse(before);
  for (const cell of notebook.cells) {
    if (cell.cell_type === "code") {
      cell.outputs = [];
      cell.execution_count = null;
    }
    for (const key of RUN_METADATA) delete cell.metadata?.[key];
  }
  const after = JSON.stringify(notebook, null, 1) + "\n";
  if (after === before) continue;
  dirty++;
  if (check) console.log(`not clean: notebooks/${name} (run \`npm run notebooks:clean\`)`);
  else {
    fs.writeFileSync(file, after);
    console.log(`cleaned notebooks/${name}`);
  }
}
if (check && dirty) process.exitCode = 1;
