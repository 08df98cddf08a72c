/**
 * The UTF-8 bytes of a text with the maps between bytes and characters, and the byte-level
 * matching primitives the offset aligner (offsets.ts) is built from.
 */

/** UTF-8 length of a code point (lone surrogates count 3: they are encoded as U+FFFD). */
export function utf8Length(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

function isWhitespaceCp(cp: number): boolean {
  if (cp === 32 || (cp >= 9 && cp <= 13)) return true;
  if (cp < 0x85) return false;
  return /\s/u.test(String.fromCodePoint(cp));
}

/** A text as UTF-8 bytes, with byte ↔ character maps. */
export class TextBytes {
  readonly bytes: Buffer;
  /** Number of bytes. */
  readonly nb: number;
  /** byte → text index of the character holding it (length nb + 1). */
  readonly byteToRef: Int32Array;
  /** text index → first byte of the character holding it (length text.length + 1). */
  readonly refToByte: Int32Array;

  constructor(readonly ref: string) {
    this.bytes = Buffer.from(ref, 'utf8');
    this.nb = this.bytes.length;
    this.byteToRef = new Int32Array(this.nb + 1);
    this.refToByte = new Int32Array(ref.length + 1);
    let b = 0;
    for (let i = 0; i < ref.length;) {
      const cp = ref.codePointAt(i)!;
      const units = cp > 0xffff ? 2 : 1;
      const len = utf8Length(cp);
      this.refToByte[i] = b;
      if (units === 2) this.refToByte[i + 1] = b;
      for (let k = 0; k < len; k++) this.byteToRef[b + k] = i;
      b += len;
      i += units;
    }
    this.byteToRef[this.nb] = ref.length;
    this.refToByte[ref.length] = this.nb;
  }

  /** Whether byte `b` starts a character (or is the end of the text). */
  isCharStart(b: number): boolean {
    return b === this.nb || this.refToByte[this.byteToRef[b]!] === b;
  }

  /** UTF-8 length of the character holding byte `b`. */
  charLenAt(b: number): number {
    return utf8Length(this.ref.codePointAt(this.byteToRef[b]!)!);
  }

  /** Whether a whitespace character starts at byte `b`. */
  wsAt(b: number): boolean {
    return b < this.nb && this.isCharStart(b) && isWhitespaceCp(this.ref.codePointAt(this.byteToRef[b]!)!);
  }

  /** The first byte at or after `b` that does not start a whitespace character. */
  skipWs(b: number): number {
    while (this.wsAt(b)) b += this.charLenAt(b);
    return b;
  }

  /** `end` moved back over the whitespace characters that end [start, end). */
  trimWsEnd(start: number, end: number): number {
    while (end > start) {
      const prev = this.refToByte[this.byteToRef[end - 1]!]!;
      if (!this.wsAt(prev)) break;
      end = prev;
    }
    return end;
  }

  /** Whether `s` from byte `from` on equals the text's bytes at `at`. */
  matches(at: number, s: Uint8Array, from: number): boolean {
    const len = s.length - from;
    if (at + len > this.nb) return false;
    for (let q = 0; q < len; q++) if (this.bytes[at + q] !== s[from + q]) return false;
    return true;
  }

  /**
   * Where surface `s` matches at byte `c`, or after the whitespace that follows it, as a byte
   * range; or null. With `allowVirtualSpace`, a leading space of `s` may be absent from the text.
   */
  place(c: number, s: Uint8Array, allowVirtualSpace: boolean): [number, number] | null {
    const virtual = allowVirtualSpace && s.length > 0 && s[0] === 0x20;
    if (this.matches(c, s, 0)) return [c, c + s.length];
    if (virtual && this.matches(c, s, 1)) return [c, c + s.length - 1];
    const g = this.skipWs(c);
    if (g > c) {
      if (this.matches(g, s, 0)) return [g, g + s.length];
      if (virtual && this.matches(g, s, 1)) return [g, g + s.length - 1];
    }
    return null;
  }
}
