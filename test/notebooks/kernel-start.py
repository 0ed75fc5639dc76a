"""A kernel whose iopub socket is slow to bind still answers the first request it gets: the kernel
Jupyter starts (bin/tslab-kernel.js) binds the other sockets only once iopub is bound. The slow bind
is made by slow-iopub-bind.cjs; one kernel_info request is sent at once, as JupyterLab sends it, and
must be answered (tslab alone drops it: its "busy" status cannot be sent while iopub binds).
Run through scripts/test-notebooks.sh, which registers the kernel.
"""
import os
import sys
from pathlib import Path

from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parents[2]
PRELOAD = Path(__file__).resolve().parent / "slow-iopub-bind.cjs"


def main():
    log_path = ROOT / "build" / "notebooks" / "kernel-start.kernel.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NODE_OPTIONS": f"{os.environ.get('NODE_OPTIONS', '')} --require {PRELOAD}".strip()}
    manager = KernelManager(kernel_name="tslab")
    with open(log_path, "w") as log:
        manager.start_kernel(cwd=str(ROOT / "notebooks"), env=env, stderr=log)
        client = manager.client()
        client.start_channels()
        try:
            msg_id = client.kernel_info()
            try:
                reply = client.get_shell_msg(timeout=20)
            except Exception:  # queue.Empty: no answer
                reply = None
            answered = reply is not None and reply["parent_header"].get("msg_id") == msg_id
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
    if answered:
        print("ok   kernel start: the first request was answered while iopub was slow to bind")
        return 0
    print(f"FAIL kernel start: no answer to the first request within 20 s (kernel log: {log_path.relative_to(ROOT)})")
    print(log_path.read_text()[-2000:])
    return 1


if __name__ == "__main__":
    sys.exit(main())
