// Where each token sits in the text it came from. GPT-2's tokens are byte sequences, so a token's
// extent is known in UTF-8 bytes; JavaScript strings index UTF-16 code units. These helpers map one
// to the other, the way Hugging Face's offsets do (a token holding part of a character spans all of it).

/**
 * Character offsets of consecutive tokens from their UTF-8 byte lengths. The tokens' bytes are exactly
 * the UTF-8 bytes of `text` (GPT-2 has no normalizer and adds no prefix space), so each byte is mapped
 * to the string indices of the character it belongs to.
 */
export function byteSpansToOffsets(text: string, byteLengths: number[]): [number, number][] {
  const total = byteLengths.reduce((a, b) => a + b, 0);
  const charStart = new Int32Array(total);
  const charEnd = new Int32Array(total);
  let byte = 0;
  for (let i = 0; i < text.length; ) {
    const codePoint = text.codePointAt(i)!;
    const units = codePoint > 0xffff ? 2 : 1;
    const n = codePointBytes(codePoint);
    charStart.fill(i, byte, byte + n);
    charEnd.fill(i + units, byte, byte + n);
    byte += n;
    i += units;
  }
  if (byte !== total) throw new Error(`Token bytes (${total}) do not add up to the text's UTF-8 bytes (${byte})`);
  let start = 0;
  return byteLengths.map((length) => {
    const span: [number, number] = [charStart[start], charEnd[start + length - 1]];
    start += length;
    return span;
  });
}

/** UTF-8 length of `s` in bytes. */
export function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) n += codePointBytes(ch.codePointAt(0)!);
  return n;
}

/** Bytes of one code point in UTF-8; a lone surrogate counts 3, as TextEncoder writes it as U+FFFD. */
function codePointBytes(c: number): number {
  return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

