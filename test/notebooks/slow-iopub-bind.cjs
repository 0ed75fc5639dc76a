// Preloaded into a kernel by kernel-start.py (NODE_OPTIONS=--require): the iopub socket takes 2 s to
// bind, as it can now and then on a busy machine, and a send meanwhile fails as zeromq's does while
// a bind is under way ("Socket is blocked by a bind or unbind operation", EBUSY).
"use strict";
const { Publisher } = require(require.resolve("zeromq", { paths: [require.resolve("tslab")] }));

const bind = Publisher.prototype.bind;
const send = Publisher.prototype.send;
const binding = new WeakSet();
// The native methods are read-only properties, but configurable.
Object.defineProperty(Publisher.prototype, "bind", {
  value: async function (address) {
    binding.add(this);
    try {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      return await bind.call(this, address);
    } finally {
      binding.delete(this);
    }
  },
});
Object.defineProperty(Publisher.prototype, "send", {
  value: function (message) {
    if (binding.has(this)) throw Object.assign(new Error("Socket is blocked by a bind or unbind operation"), { code: "EBUSY", errno: 16 });
    return send.call(this, message);
  },
});
