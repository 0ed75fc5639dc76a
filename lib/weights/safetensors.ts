// Reading and writing the safetensors format: an 8-byte little-endian header length, a JSON header
// mapping each tensor name to { dtype, shape, data_offsets }, then the raw little-endian bytes.
// Spec: https://github.com/huggingface/safetensors#format. Tensors are read one at a time from an
// open file, so a 6 GB checkpoint never has to fit in memory at once. Reads F32, F16 and BF16 as
// float32; writes F32 or F16. Other dtypes (integers, F64) are refused with the tensor's name.
import * as fs from "node:fs";
import { floatsToHalves, halvesToFloats } from "./float16";

export type SafetensorsDtype = "F32" | "F16" | "BF16";
const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };
/** The format caps the header at 100 MB; anything larger is a corrupt or foreign file. */
const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  dtype: string;
  shape: number[];
  /** Byte range inside the data section, [begin, end). */
  dataOffsets: [number, number];
}

/** An open safetensors file: its header, read eagerly, and tensors read on demand. */
export class SafetensorsFile {
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Record<string, string>;
  private readonly dataStart: number;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    header: Record<string, unknown>,
    headerLength: number,
    fileSize: number,
  ) {
    this.dataStart = 8 + headerLength;
    const tensors = new Map<string, TensorInfo>();
    let metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(header)) {
      if (name === "__metadata__") {
        metadata = value as Record<string, string>;
        continue;
      }
      const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const offsets = info?.data_offsets;
      if (
        typeof info?.dtype !== "string" ||
        !Array.isArray(info.shape) ||
        !Array.isArray(offsets) ||
        offsets.length !== 2 ||
        !offsets.every((offset) => Number.isSafeInteger(offset) && offset >= 0) ||
        !(offsets[0] <= offsets[1]) ||
        this.dataStart + offsets[1] > fileSize
      ) {
        throw new SafetensorsError(path, `tensor \`${name}\` has a malformed entry or points past the end of the file`);
      }
      tensors.set(name, { dtype: info.dtype, shape: info.shape as number[], dataOffsets: [offsets[0], offsets[1]] });
    }
    checkCoverage(path, tensors, fileSize - this.dataStart);
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Opens `path` and parses its header; throws `SafetensorsError` if the header is not valid. */
  static open(path: string): SafetensorsFile {
    const fd = fs.openSync(path, "r");
    try {
      const size = fs.fstatSync(fd).size;
      const lengthBytes = Buffer.alloc(8);
      if (size < 8 || fs.readSync(fd, lengthBytes, 0, 8, 0) !== 8) {
        throw new SafetensorsError(path, `file is ${size} bytes, too short for a header`);
      }
      const headerLength = Number(lengthBytes.readBigUInt64LE(0));
      if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > size) {
        throw new SafetensorsError(path, `header claims ${headerLength} bytes but the file has ${size}`);
      }
      const headerBytes = Buffer.alloc(headerLength);
      fs.readSync(fd, headerBytes, 0, headerLength, 8);
      let header: unknown;
      try {
        header = JSON.parse(headerBytes.toString("utf8"));
      } catch (error) {
        throw new SafetensorsError(path, `header is not valid JSON (${(error as Error).message})`);
      }
      if (typeof header !== "object" || header === null || Array.isArray(header)) {
        throw new SafetensorsError(path, "header is not a JSON object");
      }
      return new SafetensorsFile(path, fd, header as Record<string, unknown>, headerLength, size);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  /** Reads one tensor as float32, converting from F16 or BF16. */
  read(name: string): Float32Array {
    const info = this.tensors.get(name);
    if (!info) throw new SafetensorsError(this.path, `has no tensor named \`${name}\``);
    const dtype = info.dtype as SafetensorsDtype;
    const width = BYTES_PER_ELEMENT[dtype];
    if (width === undefined) {
      throw new SafetensorsError(this.path, `tensor \`${name}\` has dtype ${info.dtype}; expected F32, F16 or BF16`);
    }
    const count = info.shape.reduce((a, b) => a * b, 1);
    const [begin, end] = info.dataOffsets;
    if (end - begin !== count * width) {
      throw new SafetensorsError(this.path, `tensor \`${name}\` is ${end - begin} bytes; shape [${info.shape}] in ${dtype} needs ${count * width}`);
    }
    const bytes = new Uint8Array(end - begin);
    // readSync reads at most 2 GB per call.
    for (let done = 0; done < bytes.length; ) {
      const n = fs.readSync(this.fd, bytes, done, Math.min(bytes.length - done, 1 << 30), this.dataStart + begin + done);
      if (n === 0) throw new SafetensorsError(this.path, `ended inside tensor \`${name}\``);
      done += n;
    }
    return toFloat32(bytes, dtype);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/**
 * The format's rule for the data section: the tensors' byte ranges, in order, cover it exactly, with
 * no overlap and no hole. Throws naming the first tensor that breaks it.
 */
function checkCoverage(path: string, tensors: ReadonlyMap<string, TensorInfo>, dataLength: number): void {
  const ordered = [...tensors].sort(([, a], [, b]) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let covered = 0;
  let previous = "";
  for (const [name, { dataOffsets: [begin, end] }] of ordered) {
    if (begin < covered) throw new SafetensorsError(path, `tensor \`${name}\` (bytes ${begin}–${end}) overlaps tensor \`${previous}\`, which ends at byte ${covered}`);
    if (begin > covered) throw new SafetensorsError(path, `no tensor covers bytes ${covered}–${begin} of the data section, before tensor \`${name}\``);
    covered = end;
    previous = name;
  }
  if (covered !== dataLength) {
    throw new SafetensorsError(path, `the tensors cover ${covered} of the data section's ${dataLength} bytes${previous ? ` (the last, \`${previous}\`, ends at ${covered})` : ""}`);
  }
}

/** A safetensors file that is missing, truncated or malformed. */
export class SafetensorsError extends Error {
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}. Re-download or re-create the file.`);
    this.name = "SafetensorsError";
  }
}

function toFloat32(bytes: Uint8Array, dtype: SafetensorsDtype): Float32Array {
  // Every platform Node runs on is little-endian, so the bytes already are the numbers. `bytes` was
  // allocated for this tensor alone, so its buffer starts at offset 0 and 2- and 4-byte views fit.
  if (dtype === "F32") return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  if (dtype === "F16") return halvesToFloats(halves);
  // bfloat16 is the top half of a float32.
  const out = new Float32Array(halves.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) bits[i] = halves[i] << 16;
  return out;
}

export interface TensorToWrite {
  name: string;
  shape: number[];
  /** The values, or a function that makes them when the writer reaches this tensor (large files). */
  data: Float32Array | (() => Float32Array);
}

/**
 * Writes tensors to `path` in the given dtype. The file is written under a temporary name and
 * renamed when complete, so an interrupted write never leaves a file that looks finished.
 */
export function writeSafetensors(
  path: string,
  tensors: TensorToWrite[],
  { dtype = "F32", metadata = {} }: { dtype?: "F32" | "F16"; metadata?: Record<string, string> } = {},
): void {
  const width = BYTES_PER_ELEMENT[dtype];
  const header: Record<string, unknown> = { __metadata__: { format: "pt", ...metadata } };
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + count * width] };
    offset += count * width;
  }
  // Pad the header with spaces to an 8-byte boundary, as the reference writer does.
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, "utf8");
  const lengthBytes = Buffer.alloc(8);
  lengthBytes.writeBigUInt64LE(BigInt(headerBytes.length));

  const partial = `${path}.partial-${process.pid}`;
  const fd = fs.openSync(partial, "w");
  try {
    try {
      writeAll(fd, lengthBytes);
      writeAll(fd, headerBytes);
      for (const t of tensors) {
        const data = typeof t.data === "function" ? t.data() : t.data;
        const count = t.shape.reduce((a, b) => a * b, 1);
        if (count !== data.length) {
          throw new RangeError(`Tensor \`${t.name}\` has ${data.length} values but shape [${t.shape}] needs ${count}`);
        }
        writeAll(fd, encode(data, dtype));
      }
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(partial, path);
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done);
}

function encode(data: Float32Array, dtype: "F32" | "F16"): Uint8Array {
  if (dtype === "F32") {
    const copy = new Float32Array(data); // little-endian on every platform Node runs on
    return new Uint8Array(copy.buffer);
  }
  const halves = floatsToHalves(data);
  return new Uint8Array(halves.buffer);
}
