// Writes GraphBuilder graphs as .onnx files plus their weights as ONNX external data
// (model.onnx.data), one weight at a time, so memory stays near one tensor even for gpt2-xl
// and no file hits protobuf's 2 GB message limit. Several graphs over the same weights (or some
// of them) share one data file. Everything is written into a temporary folder, flushed to disk, listed with its
// sizes in manifest.json and renamed into place: readers see a whole model or none.
import * as fs from "node:fs";
import * as path from "node:path";
import { onnx } from "onnx-proto";
import { checkAborted } from "../interrupt";
import type { GraphBuilder } from "./graph-builder";

export const ONNX_FILE = "model.onnx";
export const DATA_FILE = "model.onnx.data";
/** What a written folder holds, file by file with its size, checked before the folder is used. */
export const MANIFEST_FILE = "manifest.json";

/** The contents of manifest.json. */
export interface Manifest {
  producer: string;
  /** File name → size in bytes. */
  files: Record<string, number>;
}
/** Opset 17 is the first with LayerNormalization as a standard operator. */
const OPSET = 17;
/** Weights start on 64-byte boundaries so onnxruntime can map them without copying. */
const ALIGNMENT = 64;

/** One .onnx file to write: its name in the folder and its graph. */
export interface GraphFile {
  file: string;
  graph: GraphBuilder;
}

/**
 * Writes `graphs` into the folder `dir`, with the weights of the first graph in model.onnx.data;
 * every other graph uses some or all of those weights. If `dir` already exists when the write completes
 * (another process finished first), that copy is kept.
 */
export async function writeOnnxModels(dir: string, graphs: GraphFile[], producerVersion: string, signal?: AbortSignal): Promise<void> {
  const stored = new Map(graphs[0].graph.weights.map((w) => [w.name, w]));
  for (const { file, graph } of graphs.slice(1)) {
    const foreign = graph.weights.find((w) => stored.get(w.name)?.shape.join() !== w.shape.join() || stored.get(w.name)?.dataType !== w.dataType);
    if (foreign) throw new Error(`${file} uses weight ${foreign.name}, which ${graphs[0].file} does not store in that shape and type`);
  }
  const staging = `${dir}.partial-${process.pid}-${Date.now()}`;
  fs.mkdirSync(staging, { recursive: true });
  try {
    const initializers = await writeExternalData(graphs[0].graph, path.join(staging, DATA_FILE), signal);
    for (const { file, graph } of graphs) {
      const model = onnx.ModelProto.create({
        irVersion: 8,
        producerName: "gpt2-lab",
        producerVersion,
        opsetImport: [{ domain: "", version: OPSET }, ...[...graph.domains].map((domain) => ({ domain, version: 1 }))],
        graph: {
          name: "gpt2",
          node: graph.nodes,
          input: graph.inputs,
          output: graph.outputs,
          initializer: [...graph.constants, ...initializers.filter((t) => graph.weights.some((w) => w.name === t.name))],
        },
      });
      writeSynced(path.join(staging, file), onnx.ModelProto.encode(model).finish());
    }
    // The manifest last: a folder that has one was written whole.
    const files = Object.fromEntries([DATA_FILE, ...graphs.map((g) => g.file)].map((file) => [file, fs.statSync(path.join(staging, file)).size]));
    writeSynced(path.join(staging, MANIFEST_FILE), new TextEncoder().encode(JSON.stringify({ producer: producerVersion, files } satisfies Manifest, null, 1)));
    try {
      fs.renameSync(staging, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== "ENOTEMPTY" && code !== "EEXIST") || !fs.existsSync(path.join(dir, MANIFEST_FILE))) throw error;
      fs.rmSync(staging, { recursive: true, force: true });
    }
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Writes `bytes` to `file` and flushes them to disk. */
function writeSynced(file: string, bytes: Uint8Array): void {
  const fd = fs.openSync(file, "w");
  try {
    for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Streams every weight into one file and returns initializers that point into it. Between two
 * weights it lets the event loop run, so that `signal` (a kernel interrupt) can stop it.
 */
async function writeExternalData(graph: GraphBuilder, dataPath: string, signal?: AbortSignal): Promise<onnx.ITensorProto[]> {
  const fd = fs.openSync(dataPath, "w");
  const initializers: onnx.ITensorProto[] = [];
  try {
    let offset = 0;
    for (const ref of graph.weights) {
      await new Promise((resolve) => setImmediate(resolve));
      checkAborted(signal);
      const values = ref.read();
      const expected = ref.shape.reduce((a, b) => a * b, 1);
      if (values.length !== expected) throw new RangeError(`Weight ${ref.name} has ${values.length} values, expected ${expected} for [${ref.shape}]`);
      const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done, offset + done);
      initializers.push({
        name: ref.name,
        dims: ref.shape,
        dataType: ref.dataType ?? onnx.TensorProto.DataType.FLOAT,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: "location", value: DATA_FILE },
          { key: "offset", value: String(offset) },
          { key: "length", value: String(bytes.length) },
        ],
      });
      offset = Math.ceil((offset + bytes.length) / ALIGNMENT) * ALIGNMENT;
    }
    fs.fsyncSync(fd); // on disk before the folder is renamed into place
  } finally {
    fs.closeSync(fd);
  }
  return initializers;
}
