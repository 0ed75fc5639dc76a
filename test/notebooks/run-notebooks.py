"""Executes gpt2-lab's notebooks headless with the tslab kernel and exports each to HTML.

Every notebook runs top to bottom in a fresh kernel whose working directory is notebooks/, as in
Jupyter. A cell fails the run when the kernel replies with an error (tslab reports compile and runtime
errors only as text on stderr, so that text is printed with the cell's source), when a cell has an
`error` output or writes to stderr, when a self-check prints ✗, or when the kernel process logs an
uncaught exception or unhandled rejection between cells. Writes build/notebooks/<name>.ipynb (with outputs), <name>.html and <name>.kernel.log.
Run through scripts/test-notebooks.sh, which registers the kernel and picks the model.
"""
import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter

CRASH_MARKERS = ("UncaughtException", "UnhandledPromiseRejection", "unexpected error:")


def cell_failure(cell, reason):
    """The failing cell's source and its stderr/error outputs, ready to print."""
    lines = [f"--- {reason}", "--- cell source:", cell.source.rstrip(), "--- cell output:"]
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            lines.append(f"[{output.name}] {output.text.rstrip()}")
        elif output.output_type == "error":
            lines.append(f"[error] {output.ename}: {output.evalue}")
            lines.extend(output.get("traceback", []))
    return "\n".join(lines)


def run_notebook(path, out_dir, kernel, timeout):
    """Executes one notebook; returns a list of failure descriptions (empty when it passed)."""
    nb = nbformat.read(path, as_version=4)
    name = path.stem
    log_path = out_dir / f"{name}.kernel.log"
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=timeout,
        resources={"metadata": {"path": str(path.parent)}},
        allow_errors=False,
    )
    failures = []
    with open(log_path, "w") as kernel_log:
        try:
            # Keyword arguments reach the kernel launcher: the kernel process's stderr goes to the log.
            with client.setup_kernel(stderr=kernel_log):
                executed = 0
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type == "code":
                        executed += 1
                    try:
                        # tslab's replies carry no execution count; number the cells as Jupyter would,
                        # so that the saved notebook and its HTML export show In [1], In [2], ...
                        client.execute_cell(cell, index, execution_count=executed)
                    except CellExecutionError:
                        failures.append(cell_failure(cell, f"cell {index} failed"))
                        break
                    except CellTimeoutError:
                        failures.append(cell_failure(cell, f"cell {index} ran longer than {timeout} s"))
                        break
        except DeadKernelError as error:
            failures.append(f"the kernel died: {error}")
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        outputs = cell.get("outputs", [])
        if any(o.output_type == "error" for o in outputs):
            failures.append(cell_failure(cell, f"cell {index} has an error output"))
        elif any(o.output_type == "stream" and o.name == "stderr" for o in outputs) and not failures:
            # tslab prints errors on stderr; the notebooks print nothing else there.
            failures.append(cell_failure(cell, f"cell {index} wrote to stderr"))
        elif any(o.output_type == "stream" and "✗" in o.text for o in outputs):
            failures.append(cell_failure(cell, f"cell {index}: a self-check printed ✗"))
    log_text = log_path.read_text()
    if any(marker in log_text for marker in CRASH_MARKERS):
        failures.append("the kernel logged an uncaught error:\n" + log_text.strip())
    nbformat.write(nb, out_dir / f"{name}.ipynb")
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    code_cells = sum(1 for cell in nb.cells if cell.cell_type == "code")
    if not failures and code_cells and not re.search(rf"In(&nbsp;|\u00a0| )\[{code_cells}\]", html):
        failures.append(f"the HTML export does not number the cells (no In [{code_cells}])")
    (out_dir / f"{name}.html").write_text(html)
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--out", type=Path, default=Path("build/notebooks"))
    parser.add_argument("--kernel", default="tslab")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[2]
    notebooks = args.notebooks or sorted((root / "notebooks").glob("*.ipynb"))
    if not notebooks:
        print("No notebooks found in notebooks/", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"model: {os.environ.get('GPT2_LAB_MODEL', '(GPT2_LAB_MODEL unset)')}")
    passed = failed = 0
    for path in notebooks:
        start = time.monotonic()
        failures = run_notebook(path.resolve(), args.out, args.kernel, args.timeout)
        seconds = time.monotonic() - start
        if failures:
            failed += 1
            print(f"FAIL {path.name} ({seconds:.1f} s)")
            for failure in failures:
                print(failure)
        else:
            passed += 1
            print(f"ok   {path.name} ({seconds:.1f} s)")
    print(f"notebooks: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
