// `npm run notebooks:format`: formats every code cell of notebooks/*.ipynb with Prettier (TypeScript,
// lines of at most 100 characters), so cells read well in a narrow notebook column. A cell Prettier
// cannot parse is left as it is and named. Writes Jupyter's own layout, as notebooks:clean does.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dir = path.join(ROOT, "notebooks");
const OPTIONS = { parser: "typescript", printWidth: 100 };

for (const name of fs.readdirSync(dir).filter((n) => n.endsWith(".ipynb")).sort()) {
  const file = path.join(dir, name);
  const before = fs.readFileSync(file, "utf8");
  const notebook = JSON.parse(before);
  for (const [index, cell] of notebook.cells.entries()) {
    if (cell.cell_type !== "code") continue;
    const source = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
    let formatted;
    try {
      formatted = (await prettier.format(source, OPTIONS)).replace(/\n$/, "");
    } catch (error) {
      console.log(`notebooks/${name}, cell ${index}: left as it is (${error.message.split("\n")[0]})`);
      continue;
    }
    const lines = formatted.split("\n");
    cell.source = lines.map((line, i) => (i < lines.length - 1 ? line + "\n" : line));
  }
  const after = JSON.stringify(notebook, null, 1) + "\n";
  if (after !== before) {
    fs.writeFileSync(file, after);
    console.log(`formatted notebooks/${name}`);
  }
}
