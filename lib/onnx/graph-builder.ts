// A small helper for writing ONNX graphs by hand: nodes get generated output names, constants
// become initializers, and weights are recorded by name, shape and element type only, so the
// graph can be described before a single weight is read. Messages come from onnx-proto (ONNX's
// own schema compiled for protobufjs); nothing here knows GPT-2.
import { onnx } from "onnx-proto";
import { floatsToHalves } from "../weights/float16";

export type Attribute = number | number[] | string;

const DataType = onnx.TensorProto.DataType;

/** A weight to be stored as an initializer; its values are read when the model file is written. */
export interface WeightRef {
  name: string;
  shape: number[];
  /** ONNX element type of the stored values. @default FLOAT */
  dataType?: number;
  /** Produces the values in ONNX layout (row-major, `shape`): float32, int8, or float16 bits. */
  read(): Float32Array | Int8Array | Uint16Array;
}

/** Builds one ONNX graph: call `op` in order, then hand it to `writeOnnxModels`. */
export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly constants: onnx.ITensorProto[] = [];
  readonly weights: WeightRef[] = [];
  readonly inputs: onnx.IValueInfoProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  /** Operator-set domains used besides the standard one (e.g. `com.microsoft`). */
  readonly domains = new Set<string>();
  private counter = 0;

  /**
   * Adds a node and returns its output names (`outputs` names them, else they are generated).
   * A type written `domain:Type` (e.g. `com.microsoft:DynamicQuantizeMatMul`) uses that domain.
   */
  op(type: string, inputs: string[], attributes: Record<string, Attribute> = {}, outputs: number | string[] = 1): string[] {
    const [domain, opType] = type.includes(":") ? type.split(":") : ["", type];
    if (domain) this.domains.add(domain);
    const names = typeof outputs === "number" ? Array.from({ length: outputs }, () => `${opType}_${this.counter++}`) : outputs;
    this.nodes.push({
      opType,
      domain,
      name: `${opType}_node_${this.counter++}`,
      input: inputs,
      output: names,
      attribute: Object.entries(attributes).map(([name, value]) => toAttribute(name, value)),
    });
    return names;
  }

  /** Like `op` for nodes with a single output. */
  op1(type: string, inputs: string[], attributes: Record<string, Attribute> = {}, output?: string): string {
    return this.op(type, inputs, attributes, output ? [output] : 1)[0];
  }

  /** An int64 constant stored in the graph itself. */
  int64(values: number[], shape: number[] = [values.length]): string {
    const name = `const_i64_${this.counter++}`;
    this.constants.push({ name, dims: shape, dataType: DataType.INT64, int64Data: values });
    return name;
  }

  /** A float constant stored in the graph itself, as float32 or (with `dataType` FLOAT16) float16. */
  float(values: number[], shape: number[] = [values.length], dataType: number = DataType.FLOAT): string {
    const name = `const_f${dataType === DataType.FLOAT16 ? 16 : 32}_${this.counter++}`;
    if (dataType === DataType.FLOAT16) {
      const bits = floatsToHalves(Float32Array.from(values));
      this.constants.push({ name, dims: shape, dataType, rawData: new Uint8Array(bits.buffer) });
    } else {
      this.constants.push({ name, dims: shape, dataType: DataType.FLOAT, floatData: values });
    }
    return name;
  }

  /** A weight whose values are written to external data. */
  weight(ref: WeightRef): string {
    this.weights.push(ref);
    return ref.name;
  }

  /** Declares a graph input; string dims are symbolic. */
  input(name: string, elementType: number, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(name, elementType, dims));
    return name;
  }

  /** Declares a graph output. */
  output(name: string, elementType: number, dims: (number | string)[]): void {
    this.outputs.push(valueInfo(name, elementType, dims));
  }
}

function valueInfo(name: string, elementType: number, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: elementType,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function toAttribute(name: string, value: Attribute): onnx.IAttributeProto {
  const Type = onnx.AttributeProto.AttributeType;
  if (typeof value === "string") return { name, type: Type.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: Type.INTS, ints: value };
  if (Number.isInteger(value)) return { name, type: Type.INT, i: value };
  return { name, type: Type.FLOAT, f: value };
}
