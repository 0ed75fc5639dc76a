// Runs of six words, hashed, to check that the notebooks never repeat the course's wording while
// the repository holds only hashes of the course text (course-6grams.txt, next to this file).
// Words are letters, digits and apostrophes, lowercased, so punctuation and markup hide nothing;
// links are left out.
// To rebuild the hashes from the course text: node dist/test/notebooks/course-ngrams.js <course file>
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export const NGRAM = 6;
/** The hashes of the course's runs, beside this file's source. */
export const HASH_FILE = path.join(__dirname, "..", "..", "..", "test", "notebooks", "course-6grams.txt");

/** Every run of NGRAM words in `text`, with the first 16 hex digits of its sha256. */
export function ngramHashes(text: string): { run: string; hash: string }[] {
  // Links are addresses, not prose: both texts cite some of the same pages.
  const words = text.replace(/https?:\/\/\S+/g, " ").toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
  const runs: { run: string; hash: string }[] = [];
  for (let i = 0; i + NGRAM <= words.length; i++) {
    const run = words.slice(i, i + NGRAM).join(" ");
    runs.push({ run, hash: createHash("sha256").update(run).digest("hex").slice(0, 16) });
  }
  return runs;
}

/** The course's hashes, from HASH_FILE. */
export function courseHashes(): Set<string> {
  return new Set(fs.readFileSync(HASH_FILE, "utf8").split("\n").filter((line) => /^[0-9a-f]{16}$/.test(line)));
}

// Run directly with the course text's path: rewrite HASH_FILE. (The test runner runs it without one.)
if (require.main === module && process.argv[2]) {
  const hashes = [...new Set(ngramHashes(fs.readFileSync(process.argv[2], "utf8")).map(({ hash }) => hash))].sort();
  fs.writeFileSync(HASH_FILE, `# sha256 (first 16 hex digits) of each run of ${NGRAM} lowercased words of the course text\n${hashes.join("\n")}\n`);
  console.log(`${hashes.length} hashes written to ${HASH_FILE}`);
}
