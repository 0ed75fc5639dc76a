#!/usr/bin/env node
// The tslab kernel as Jupyter starts it for gpt2-lab (scripts/jupyter-env.sh registers this file):
// tslab itself, with its sockets bound in an order that loses no request. tslab 1.0.22 binds its
// five sockets at once, so a request can reach the shell socket while the iopub socket is still
// binding; publishing the "busy" status then fails ("Socket is blocked by a bind or unbind
// operation"), the request is never answered and the notebook waits for its kernel forever. Here
// the iopub socket is bound first, and the others once it is.
"use strict";
const { ZmqServer } = require("tslab/dist/jupyter");

const bindSocket = ZmqServer.prototype.bindSocket;
ZmqServer.prototype.bindSocket = function (socket, port) {
  if (socket === this.iopub) return (this.iopubBound = bindSocket.call(this, socket, port));
  return this.iopubBound.then(() => bindSocket.call(this, socket, port));
};

require("tslab/dist/main").main();
