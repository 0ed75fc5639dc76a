// Writes a GraphBuilder's graph as model.onnx plus its weights as ONNX external data
// (model.onnx.data), one weight at a time, so memory stays near one tensor even for gpt2-xl
// and no file hits protobuf's 2 GB message limit. Both files are written into a temporary
// folder that is renamed into place when complete: readers see a whole model or none.
import * as fs from "node:fs";
import * as path from "node:path";
import { onnx } from "onnx-proto";
import type { GraphBuilder } from "./graph-builder";

export const ONNX_FILE = "model.onnx";
export const DATA_FILE = "model.onnx.data";
/** Opset 17 is the first with LayerNormalization as a standard operator. */
const OPSET = 17;
/** Weights start on 64-byte boundaries so onnxruntime can map them without copying. */
const ALIGNMENT = 64;

/**
 * Writes `graph` into the folder `dir` (model.onnx + model.onnx.data). If `dir` already
 * exists when the write completes (another process finished first), that copy is kept.
 */
export function writeOnnxModel(graph: GraphBuilder, dir: string, producerVersion: string): void {
  const staging = `${dir}.partial-${process.pid}-${Date.now()}`;
  fs.mkdirSync(staging, { recursive: true });
  try {
    const initializers = writeExternalData(graph, path.join(staging, DATA_FILE));
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: "gpt2-lab",
      producerVersion,
      opsetImport: [{ domain: "", version: OPSET }],
      graph: {
        name: "gpt2",
        node: graph.nodes,
        input: graph.inputs,
        output: graph.outputs,
        initializer: [...graph.constants, ...initializers],
      },
    });
    fs.writeFileSync(path.join(staging, ONNX_FILE), onnx.ModelProto.encode(model).finish());
    try {
      fs.renameSync(staging, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== "ENOTEMPTY" && code !== "EEXIST") || !fs.existsSync(path.join(dir, ONNX_FILE))) throw error;
      fs.rmSync(staging, { recursive: true, force: true });
    }
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Streams every weight into one file and returns initializers that point into it. */
function writeExternalData(graph: GraphBuilder, dataPath: string): onnx.ITensorProto[] {
  const fd = fs.openSync(dataPath, "w");
  const initializers: onnx.ITensorProto[] = [];
  try {
    let offset = 0;
    for (const ref of graph.weights) {
      const values = ref.read();
      const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done, offset + done);
      initializers.push({
        name: ref.name,
        dims: ref.shape,
        dataType: onnx.TensorProto.DataType.FLOAT,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: "location", value: DATA_FILE },
          { key: "offset", value: String(offset) },
          { key: "length", value: String(bytes.length) },
        ],
      });
      offset = Math.ceil((offset + bytes.length) / ALIGNMENT) * ALIGNMENT;
    }
  } finally {
    fs.closeSync(fd);
  }
  return initializers;
}
