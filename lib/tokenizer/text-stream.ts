// Turning a growing list of token ids into text pieces as they arrive. GPT-2's tokens are bytes,
// so one character (an emoji, an accented letter) can be split across tokens; decoding such a
// prefix ends in U+FFFD. Those characters are held back until the rest of their bytes arrive,
// so streamed pieces never show a replacement character that the final text does not have.
import type { Tokenizer } from "./tokenizer";

const REPLACEMENT = "\uFFFD";

/** Decodes one sample's new tokens incrementally. */
export class TextStream {
  private readonly ids: number[] = [];
  private emitted = "";

  constructor(private readonly tokenizer: Tokenizer) {}

  /** Adds a token and returns the text that became certain (possibly ""). */
  push(id: number): string {
    this.ids.push(id);
    let text = this.tokenizer.decode(this.ids);
    // An unfinished UTF-8 sequence decodes to U+FFFD at the very end: wait for its other bytes.
    while (text.endsWith(REPLACEMENT)) text = text.slice(0, -1);
    return this.take(text);
  }

  /** Returns whatever is still held back (at the end of generation, bytes that never completed). */
  flush(): string {
    return this.take(this.tokenizer.decode(this.ids));
  }

  /** The decoded text of every token so far. */
  get text(): string {
    return this.tokenizer.decode(this.ids);
  }

  private take(text: string): string {
    // Decoding more bytes can only extend the certain prefix, never change it.
    if (!text.startsWith(this.emitted)) return "";
    const piece = text.slice(this.emitted.length);
    this.emitted = text;
    return piece;
  }
}
