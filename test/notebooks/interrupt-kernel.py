"""The stop button, through a real kernel interrupt: a Jupyter kernel client (jupyter_client, as
JupyterLab's ■ does through the server) interrupts the tslab kernel while a cell works, in each shape
a cell commonly has. Each cell must end within 2 s with the one-line note alone, the work must really
stop (no token a second later; no conversion left on disk), and the next cell must run.

The shapes matter because tslab runs a cell's first synchronous part (up to its first `await`) with
every SIGINT listener removed: work started there, as in `await lab.generate(…)` as the first
statement, inside a `{ }` block or in a loop, once ran on after the cell had ended.
Also: a call gpt2-lab refuses ends its cell with one line, without tslab's stack trace.
Run through scripts/test-notebooks.sh, which registers the kernel and picks the model.
Usage: interrupt-kernel.py BIG_MODEL_DIR (a random `gpt2`-shaped model folder, for the conversion)
"""
import os
import queue
import shutil
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parents[2]
STOP_WITHIN_S = 2.0

SETUP = """import * as lab from "../dist/lib";
const { model } = await lab.loadModelOrDefault(process.env.GPT2_LAB_MODEL);
let made = 0;
// Long enough to be interrupted: 64 samples to the end of the context; says when the first token came.
const long = () => {
  let first = true;
  return {
    numSamples: 64,
    maxNewTokens: model.config.n_positions - 1,
    onToken: () => {
      made++;
      if (first) console.log("started");
      first = false;
    },
  };
};
"""

# Each shape: a name, the cell, the note it must end with, and what the kernel prints once the work
# runs (the interrupt follows a second later) or None (the interrupt follows 1.5 s after the cell starts).
SHAPES = [
    ("generation, first statement", 'await lab.generate(model, "", long());', "generation", "started"),
    ("generation, in a block", '{\n  const options = long();\n  await lab.generate(model, "", options);\n}', "generation", "started"),
    ("generation, in a loop", 'for (let i = 0; i < 3; i++) {\n  await lab.generate(model, "", long());\n}', "generation", "started"),
    ("generation, after an await", 'await Promise.resolve();\nawait lab.generate(model, "", long());', "generation", "started"),
]

# After a generation was interrupted: no token may arrive in the next second.
STILL_RUNNING = """{
  const before = made;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  console.log(made === before ? "stopped" : `still running: ${made - before} tokens in 1 s`);
}"""
NEXT_CELL = '(await lab.generate(model, "Hi", { maxNewTokens: 2 })).samples[0].ids.length'


class Kernel:
    def __init__(self, cache):
        self.manager = KernelManager(kernel_name="tslab")
        env = {**os.environ, "GPT2_LAB_CACHE": cache}
        self.log = open(ROOT / "build" / "notebooks" / "interrupt.kernel.log", "w")
        self.manager.start_kernel(cwd=str(ROOT / "notebooks"), env=env, stderr=self.log)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code, trigger=None, timeout=300):
        """Runs a cell; with `trigger`, interrupts once the trigger's condition holds. Returns
        (stdout, stderr, error outputs, seconds from the interrupt to the cell's end)."""
        msg_id = self.client.execute(code)
        started = time.monotonic()
        interrupted_at = None
        out, err, errors = [], [], []
        deadline = started + timeout
        while time.monotonic() < deadline:
            if trigger and interrupted_at is None and trigger(started, "".join(out)):
                self.manager.interrupt_kernel()
                interrupted_at = time.monotonic()
            try:
                msg = self.client.get_iopub_msg(timeout=0.05)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                (out if content["name"] == "stdout" else err).append(content["text"])
            elif kind == "error":
                errors.append(f"{content['ename']}: {content['evalue']}")
            elif kind == "status" and content["execution_state"] == "idle":
                ended = time.monotonic()
                return "".join(out), "".join(err), errors, (ended - interrupted_at) if interrupted_at else None
        raise TimeoutError(f"the cell ran longer than {timeout} s:\n{code}")

    def close(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
        self.log.close()


def stopped(seconds):
    return f"stopped {seconds or 0:.2f} s after the interrupt, with the one-line note"


def after_output(text, delay):
    """A trigger: `delay` seconds after the cell printed `text`."""
    seen = {}

    def trigger(_started, out):
        if text in out:
            seen.setdefault("at", time.monotonic())
            return time.monotonic() - seen["at"] >= delay
        return False

    return trigger


def after_start(delay):
    return lambda started, _out: time.monotonic() - started >= delay


def check_interrupted(kernel, name, code, what, started_text, problems):
    trigger = after_output(started_text, 1.0) if started_text else after_start(1.5)
    out, err, errors, seconds = kernel.run(code, trigger)
    note = f"■ interrupted: the {what} stopped"
    lines = [line for line in out.splitlines() if line != started_text]
    # tslab drops what it receives in the 200 ms after a failed cell; a person is slower.
    time.sleep(0.5)
    if seconds is None:
        problems.append(f"{name}: the cell ended before the interrupt (stdout {out[:300]!r}, stderr {err[:300]!r}, errors {errors!r})")
        return None
    if seconds > STOP_WITHIN_S:
        problems.append(f"{name}: the cell took {seconds:.1f} s to end after the interrupt")
    if lines != [note] or err or errors:
        problems.append(f"{name}: the cell should end with one line, {note!r}; stdout {lines!r}, stderr {err!r}, errors {errors!r}")
    return seconds


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    big_model = sys.argv[1]
    (ROOT / "build" / "notebooks").mkdir(parents=True, exist_ok=True)
    cache = tempfile.mkdtemp(prefix="gpt2-lab-interrupt-")
    kernel = Kernel(cache)
    passed = failed = 0

    def report(name, problems, detail):
        nonlocal passed, failed
        if problems:
            failed += 1
            print(f"FAIL {name}")
            for problem in problems:
                print(f"  {problem}")
        else:
            passed += 1
            print(f"ok   {name}: {detail}")

    try:
        _out, err, errors, _ = kernel.run(SETUP)
        if err or errors:
            print(f"the setup cell failed: {err}{errors}")
            return 1
        for name, code, what, started_text in SHAPES:
            problems = []
            seconds = check_interrupted(kernel, name, code, what, started_text, problems)
            if what == "generation" and seconds is not None:
                out, err, errors, _ = kernel.run(STILL_RUNNING)
                if "stopped" not in out:
                    problems.append(f"{name}: the generation went on after the interrupt ({out.strip()}{err}{errors})")
            out, err, errors, _ = kernel.run(NEXT_CELL)
            if out.strip() != "2":
                problems.append(f"{name}: the next cell did not generate: {out!r} {err!r} {errors!r}")
            report(name, problems, stopped(seconds))
        # A refused call (a generation past the context) ends the cell with one line, no stack trace.
        name = "a generation past the context"
        out, err, errors, _ = kernel.run('await lab.generate(model, "Hi", { maxNewTokens: model.config.n_positions });')
        time.sleep(0.5)
        lines = err.strip().splitlines()
        problems = [] if len(lines) == 1 and lines[0].startswith("RangeError: The prompt is 1 tokens") and not out and not errors else [f"{name}: the cell should end with one line, the RangeError; stdout {out!r}, stderr {err!r}"]
        report(name, problems, "one line, the error's name and message")
        # A conversion to 8-bit weights (loading a checkpoint converts it once, to fp32 and then
        # int8), interrupted 1.5 s in: no int8 folder may be left behind, finished or partial, also a
        # while later (a finished fp32 conversion is a valid cache entry).
        name = "conversion, first statement"
        problems = []
        code = f'await lab.loadModel({big_model!r}, {{ device: "cpu", dtype: "int8" }});'
        seconds = check_interrupted(kernel, name, code, "loading of the model", None, problems)
        time.sleep(3)
        onnx = Path(cache) / "onnx"
        left = sorted(p.name for p in onnx.iterdir() if "-fp32-" not in p.name or ".partial" in p.name) if onnx.exists() else []
        if left:
            problems.append(f"{name}: the conversion left {left} in the cache 3 s after the interrupt")
        report(name, problems, stopped(seconds))
        # An inspection of 500 tokens on the `gpt2` shape (several seconds), interrupted 1.5 s in.
        name = "inspection, first statement"
        problems = []
        _out, err, errors, _ = kernel.run(f'const big = await lab.loadModel({big_model!r}, {{ device: "cpu" }});\nconst text = "When using LLMs, the model writes one token at a time. ".repeat(36);')
        if err or errors:
            problems.append(f"{name}: loading the model failed: {err}{errors}")
        else:
            seconds = check_interrupted(kernel, name, "await big.inspect(text);", "inspection", None, problems)
        out, err, errors, _ = kernel.run(NEXT_CELL)
        if out.strip() != "2":
            problems.append(f"{name}: the next cell did not generate: {out!r} {err!r} {errors!r}")
        report(name, problems, stopped(seconds))
    finally:
        kernel.close()
        shutil.rmtree(cache, ignore_errors=True)  # the converted gpt2-shaped model, half a gigabyte
    print(f"interrupt: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
