// The memory a load may take, read as the kernel enforces it, on fake /proc and /sys trees laid
// out like a container's (cgroup v2 and v1) and a bare machine's; and the refusal, with what to
// do instead, of a model that would not fit.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { configForShape } from "../../lib/config";
import { availableMemory, loadMemoryProblem, loadPeakBytes } from "../../lib/model/memory";
import { scratchFolder } from "../scratch";

const tmp = scratchFolder("memory");
const GB = 1e9;

function fakeRoot(name: string, files: Record<string, string>): string {
  const root = path.join(tmp, name);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  return root;
}

const meminfo = (gb: number) => `MemTotal: 24000000 kB\nMemFree: 1000 kB\nMemAvailable: ${gb * 1e6} kB\n`;

test("no cgroup limit: what the kernel reports available", () => {
  const root = fakeRoot("bare", { "proc/meminfo": meminfo(20), "proc/self/cgroup": "0::/\n", "sys/fs/cgroup/memory.max": "max\n" });
  assert.deepEqual(availableMemory(root), { bytes: 20e9 * 1.024, source: "the memory the kernel reports available" });
});

test("a cgroup v2 limit, on the process's cgroup or a parent, minus what that cgroup uses", () => {
  const root = fakeRoot("v2", {
    "proc/meminfo": meminfo(20),
    "proc/self/cgroup": "0::/kubepods/pod1/box\n",
    "sys/fs/cgroup/kubepods/pod1/box/memory.max": "max\n",
    "sys/fs/cgroup/kubepods/pod1/memory.max": String(4 * GB),
    "sys/fs/cgroup/kubepods/pod1/memory.current": String(1 * GB),
  });
  const found = availableMemory(root);
  assert.equal(found.bytes, 3 * GB);
  assert.match(found.source, /cgroup \/kubepods\/pod1 \(memory\.max\)/);
});

test("a cgroup v1 limit, and v1's huge number for no limit", () => {
  const limited = fakeRoot("v1", {
    "proc/meminfo": meminfo(20),
    "proc/self/cgroup": "12:cpu,cpuacct:/x\n4:memory:/docker/abc\n",
    "sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": String(2 * GB),
    "sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes": String(0.5 * GB),
  });
  assert.equal(availableMemory(limited).bytes, 1.5 * GB);
  const unlimited = fakeRoot("v1-none", {
    "proc/meminfo": meminfo(20),
    "proc/self/cgroup": "4:memory:/docker/abc\n",
    "sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "9223372036854771712\n",
  });
  assert.equal(availableMemory(unlimited).bytes, 20e9 * 1.024);
});

test("gpt2-xl at fp32 in 4 GB is refused with int8 as the way out; what fits is allowed", () => {
  const xl = configForShape("gpt2-xl");
  assert.ok(Math.abs(loadPeakBytes(xl, "fp32") - 7.2e9) < 0.2e9, "about 7 GB, as measured");
  const problem = loadMemoryProblem("gpt2-xl", xl, "fp32", { bytes: 4 * GB, source: "the memory limit of the cgroup /box (memory.max)" });
  assert.match(problem!, /Loading gpt2-xl \(1558 M parameters\) with dtype 'fp32' needs about 7\.2 GB of memory at its peak, but 4\.0 GB is available \(the memory limit of the cgroup \/box \(memory\.max\)\); load it with `dtype: 'int8'` \(--dtype int8; about 2\.5 GB/);
  assert.match(loadMemoryProblem("gpt2-xl", xl, "int8", { bytes: 1 * GB, source: "x" })!, /pick a smaller model such as gpt2/);
  assert.equal(loadMemoryProblem("gpt2-xl", xl, "int8", { bytes: 4 * GB, source: "x" }), null);
  assert.equal(loadMemoryProblem("gpt2", configForShape("gpt2"), "fp32", { bytes: 1 * GB, source: "x" }), null);
});
