"""Each exercise's self-check must catch wrong answers: runs the notebook up to an exercise cell,
with a wrong answer put in place of the notebook's in that cell, and expects the cell to print ✗
and no ✓. The wrong answers tried are listed below, per exercise.
Run through scripts/test-notebooks.sh, which registers the kernel and picks the model.
"""
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]

# notebook -> exercise (a line of its cell, replaced) -> wrong lines tried in its place.
WRONG_ANSWERS = {
    "00-typescript-for-python-users.ipynb": {
        "const lengths = words.filter((word) => word.length > 3).map((word) => word.length);": [
            "const lengths = words.map((word) => word.length);",  # no filter
            "const lengths = words.filter((word) => word.length >= 3).map((word) => word.length);",
            "const lengths = words.filter((word) => word.length > 3);",  # the words, not their lengths
        ],
    },
    "02-generating-with-gpt2.ipynb": {
        "const coldTemperature = 0.01;\nconst hotTemperature = 100;": [
            "const coldTemperature = 1;\nconst hotTemperature = 1;",
            "const coldTemperature = 0.7;\nconst hotTemperature = 0.8;",
            "const coldTemperature = 100;\nconst hotTemperature = 0.01;",  # swapped
        ],
        "doSample: false, seed": [
            "doSample: true, seed",  # sampling instead of greedy decoding
        ],
        "      topK: k,\n      temperature: t,": [
            "      topK: 50,\n      temperature: t,",  # k ignored
            "      topK: k,\n      temperature: 1,",  # temperature ignored
            "      topK: 1,\n      temperature: t,",  # greedy everywhere
        ],
    },
    "03-inside-gpt2.ipynb": {
        "  for (let key = 0; key <= query; key++) total += row[key];": [
            "  for (let key = 0; key < query; key++) total += row[key];",  # off by one
            "  for (let key = 1; key <= query; key++) total += row[key];",  # the first key left out
            "  total = row[query];",
        ],
        "const firstLayer = mine.lens.findIndex((layer) => layer[lastPosition].id === mine.next.id);": [
            "const firstLayer = mine.lens.findIndex((layer) => layer[lastPosition].id === mine.next.id) + 1;",
            "const firstLayer = -1;",
            "const firstLayer = mine.lens.length;",
        ],
    },
    "04-temperature-and-top-k.ipynb": {
        "const lowTemperature = 0.5;\nconst highTemperature = 2;": [
            "const lowTemperature = 1;\nconst highTemperature = 1;",  # equal
            "const lowTemperature = 2;\nconst highTemperature = 0.5;",  # swapped
            "const lowTemperature = 0.7;\nconst highTemperature = 0.7;",
        ],
    },
    "05-decoding-strategies.ipynb": {
        "return probs.flatMap((p, id) => (p >= minP * top ? [id] : []));": [
            # an absolute cut, as epsilon sampling makes
            "return probs.flatMap((p, id) => (p >= minP ? [id] : []));",
            # relative to the first token instead of the likeliest
            "return probs.flatMap((p, id) => (p >= minP * probs[0] ? [id] : []));",
            # every token
            "return probs.map((_, id) => id);",
        ],
        "const plainSumPenalty = 0;": [
            "const plainSumPenalty = 1;",
            "const plainSumPenalty = -1;",
            "const plainSumPenalty = 2;",
        ],
        "const penalisedLogit = -3;": [
            "const penalisedLogit = -2 / 1.5;",  # divided, as for a positive logit
            "const penalisedLogit = -2;",  # unchanged
            "const penalisedLogit = 3;",
        ],
    },
    "06-why-this-token.ipynb": {
        "  return (\n    parts.embeddings +\n    sum(parts.heads.flat()) +\n    sum(parts.attentionBias) +\n    sum(parts.mlps) +\n    parts.finalBias\n  );": [
            # ln_f's bias forgotten
            "  return parts.embeddings + sum(parts.heads.flat()) + sum(parts.attentionBias) + sum(parts.mlps);",
            # the attention biases forgotten
            "  return parts.embeddings + sum(parts.heads.flat()) + sum(parts.mlps) + parts.finalBias;",
            # the heads alone
            "  return sum(parts.heads.flat());",
        ],
        "const restoringPosition = cleanIds.findIndex((id, t) => id !== corruptedIds[t]);": [
            "const restoringPosition = 0;",  # a token both prompts share
            "const restoringPosition = cleanIds.length - 1;",  # the last token, also shared
            "const restoringPosition = -1;",
        ],
        "const leanedOn = occluded.tokens.reduce(\n  (best, t, i, all) => (t.change < all[best].change ? i : best),\n  0,\n);": [
            # the largest rise instead of the largest drop
            "const leanedOn = occluded.tokens.reduce((best, t, i, all) => (t.change > all[best].change ? i : best), 0);",
            "const leanedOn = -1;",
            "const leanedOn = occluded.tokens.length;",
        ],
    },
}


def run_cells(nb, cells, kernel):
    """Executes `cells` (indexes into nb.cells) in one fresh kernel; returns each one's text output."""
    client = NotebookClient(nb, kernel_name=kernel, timeout=300, resources={"metadata": {"path": str(ROOT / "notebooks")}}, allow_errors=True)
    texts = []
    with client.setup_kernel():
        for index in cells:
            client.execute_cell(nb.cells[index], index)
            texts.append("".join(o.get("text", "") for o in nb.cells[index].outputs if o.output_type == "stream"))
    return texts


def main():
    kernel = sys.argv[1] if len(sys.argv) > 1 else "tslab"
    failures = []
    tried = 0
    for name, exercises in WRONG_ANSWERS.items():
        for right, wrongs in exercises.items():
            nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
            cell = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and right in c.source), None)
            if cell is None:
                failures.append(f"{name}: no cell holds `{right}`")
                continue
            source = nb.cells[cell].source
            for wrong in wrongs:
                tried += 1
                nb.cells[cell].source = source.replace(right, wrong)
                before = [i for i in range(cell) if nb.cells[i].cell_type == "code"]
                output = run_cells(nb, before + [cell], kernel)[-1]
                if "✗" not in output or "✓" in output:
                    failures.append(f"{name}: `{wrong}` was not caught; the cell printed: {output.strip()!r}")
                else:
                    print(f"ok   {name}: `{wrong}` → {output.strip().splitlines()[-1]}")
    print(f"wrong answers: {tried - len(failures)} of {tried} caught")
    for failure in failures:
        print("FAIL " + failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
