// File operations several parts of the library need: reading a JSON file with an error that names
// it, writing a small file so that readers see either the old contents or the new, never half of
// them, and hashing a file (sha256 of any size,
// and the git blob id the Hub gives small files as their ETag).
import { createHash } from "node:crypto";
import * as fs from "node:fs";

/** The parsed contents of a JSON file; an unreadable or invalid one is a SyntaxError naming the file. */
export function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new SyntaxError(`${file}: not valid JSON (${(error as Error).message}); download or copy it again`);
  }
}

/** Writes `text` to a temporary file beside `file`, then renames it into place; no partial file is left on failure. */
export function writeFileAtomically(file: string, text: string): void {
  const partial = `${file}.partial-${process.pid}`;
  try {
    fs.writeFileSync(partial, text);
    fs.renameSync(partial, file);
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error;
  }
}

/** The sha256 of a file's bytes, in hex, read in 1 MiB chunks. */
export async function fileSha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The git blob id of some bytes, `sha1("blob {size}\0" + bytes)`: the Hub's ETag for files outside Git LFS. */
export function gitBlobSha1(bytes: Uint8Array): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}
