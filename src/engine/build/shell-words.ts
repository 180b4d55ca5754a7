// Docker's word processing for the Dockerfile instructions it substitutes in
// (FROM, COPY, ADD, ENV, ARG, LABEL, EXPOSE, USER, WORKDIR, VOLUME,
// STOPSIGNAL): quotes are removed, the escape character escapes, and
// $VAR, ${VAR}, ${VAR:-word}, ${VAR-word}, ${VAR:+word}, ${VAR+word},
// ${VAR:?msg} and ${VAR?msg} are expanded. Single quotes keep everything.
import { invalid } from '../../errdefs/index.ts';

export type Lookup = (name: string) => string | undefined;

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

class Lexer {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly lookup: Lookup,
    private readonly escape: string,
  ) {}

  /** Words split on unquoted whitespace (split) or the whole input as one word. */
  run(split: boolean, stopAt?: string): string[] {
    const words: string[] = [];
    let cur = '';
    let inWord = false;
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (stopAt !== undefined && c === stopAt) break;
      if (split && /\s/.test(c)) {
        if (inWord) words.push(cur);
        cur = '';
        inWord = false;
        this.i++;
        continue;
      }
      inWord = true;
      if (c === this.escape) {
        this.i++;
        if (this.i < s.length) cur += s[this.i++];
        continue;
      }
      if (c === "'") {
        const end = s.indexOf("'", this.i + 1);
        if (end < 0) throw invalid(`unexpected end of statement while looking for matching single-quote`);
        cur += s.slice(this.i + 1, end);
        this.i = end + 1;
        continue;
      }
      if (c === '"') {
        this.i++;
        for (;;) {
          if (this.i >= s.length) throw invalid('unexpected end of statement while looking for matching double-quote');
          const d = s[this.i]!;
          if (d === '"') {
            this.i++;
            break;
          }
          if (d === this.escape && this.i + 1 < s.length && ['"', '$', this.escape].includes(s[this.i + 1]!)) {
            cur += s[this.i + 1];
            this.i += 2;
            continue;
          }
          if (d === '$') {
            cur += this.variable();
            continue;
          }
          cur += d;
          this.i++;
        }
        continue;
      }
      if (c === '$') {
        cur += this.variable();
        continue;
      }
      cur += c;
      this.i++;
    }
    if (inWord || !split) words.push(cur);
    return words;
  }

  /** At a '$': the expansion (a lone '$' stays). */
  private variable(): string {
    const s = this.s;
    this.i++; // '$'
    const c = s[this.i];
    if (c === undefined) return '$';
    if (c === '{') {
      this.i++;
      let name = '';
      while (this.i < s.length && NAME_CHAR.test(s[this.i]!)) name += s[this.i++];
      if (name === '') throw invalid(`bad substitution: missing variable name in ${JSON.stringify(s)}`);
      const next = s[this.i];
      if (next === '}') {
        this.i++;
        return this.lookup(name) ?? '';
      }
      let op = '';
      if (next === ':') {
        op = ':';
        this.i++;
      }
      const kind = s[this.i];
      if (kind !== '-' && kind !== '+' && kind !== '?') throw invalid(`unsupported modifier (${op}${kind ?? ''}) in substitution: ${JSON.stringify(s)}`);
      this.i++;
      const inner = new Lexer(s.slice(this.i), this.lookup, this.escape);
      const word = inner.run(false, '}')[0] ?? '';
      this.i += inner.i;
      if (s[this.i] !== '}') throw invalid(`syntax error: missing '}' in ${JSON.stringify(s)}`);
      this.i++;
      const value = this.lookup(name);
      const set = op === ':' ? value !== undefined && value !== '' : value !== undefined;
      if (kind === '-') return set ? value! : word;
      if (kind === '+') return set ? word : '';
      if (!set) throw invalid(`${name}: ${word || 'is not allowed to be unset'}`);
      return value!;
    }
    if (!NAME_START.test(c)) return '$';
    let name = '';
    while (this.i < s.length && NAME_CHAR.test(s[this.i]!)) name += s[this.i++];
    return this.lookup(name) ?? '';
  }
}

/** One word: quotes removed, variables expanded, whitespace kept. */
export function processWord(word: string, lookup: Lookup, escape = '\\'): string {
  return new Lexer(word, lookup, escape).run(false)[0] ?? '';
}

/** Several words: split on unquoted whitespace, then as processWord. */
export function processWords(text: string, lookup: Lookup, escape = '\\'): string[] {
  return new Lexer(text, lookup, escape).run(true);
}

/** Splits on unquoted whitespace keeping quotes and escapes as written (the
 * parse step of ENV/LABEL/ARG, before each word is processed). */
export function splitRawWords(text: string, escape = '\\'): string[] {
  const words: string[] = [];
  let cur = '';
  let quote = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (!quote && /\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === escape && quote !== "'" && i + 1 < text.length) {
      cur += c + text[++i];
      continue;
    }
    if (quote && c === quote) quote = '';
    else if (!quote && (c === '"' || c === "'")) quote = c;
    cur += c;
  }
  if (inWord) words.push(cur);
  return words;
}

/** `k=v k2="v 2"` pairs (or the legacy `KEY value` form when `legacy`), each
 * key and value processed. */
export function keyValues(text: string, lookup: Lookup, escape: string, what: string, legacy: boolean): Array<[string, string]> {
  const t = text.trim();
  const words = splitRawWords(t, escape);
  if (words.length === 0) throw invalid(`${what} requires at least one argument`);
  if (legacy && !words[0]!.includes('=')) {
    const key = words[0]!;
    const rest = t.slice(key.length).trim();
    if (rest === '') throw invalid(`${what} must have two arguments`);
    return [[processWord(key, lookup, escape), processWord(rest, lookup, escape)]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw invalid(`${what} names can not be blank or lack a value: ${JSON.stringify(w)} (use KEY=VALUE)`);
    return [processWord(w.slice(0, eq), lookup, escape), processWord(w.slice(eq + 1), lookup, escape)];
  });
}
