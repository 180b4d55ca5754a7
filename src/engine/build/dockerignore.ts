// .dockerignore: Go filepath.Match patterns on context-relative paths, with
// `**` for any number of directories and `!` for exceptions. The last
// pattern that matches a path decides; a pattern that matches a parent
// directory matches everything below it.
import { posix } from 'node:path';
import { invalid } from '../../errdefs/index.ts';

export interface IgnorePattern {
  exclusion: boolean;
  re: Glob;
  /** The cleaned pattern text, without '!'. */
  text: string;
}

export function parseDockerignore(text: string): IgnorePattern[] {
  const out: IgnorePattern[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let exclusion = false;
    if (line.startsWith('!')) {
      exclusion = true;
      line = line.slice(1).trim();
    }
    let p = posix.normalize(line);
    p = p.replace(/^\/+/, '').replace(/\/+$/, '');
    if (p === '' || p === '.') continue;
    out.push({ exclusion, re: compileGlob(p), text: p });
  }
  return out;
}

/** A compiled pattern: `test` answers in O(pattern × name) steps whatever
 * the input (a backtracking RegExp of many `*` can take minutes on a long
 * name, with the daemon's event loop blocked). */
export interface Glob {
  test(path: string): boolean;
}

type Token =
  | { kind: 'lit'; c: string }
  | { kind: 'one' } // ?: one character but '/'
  | { kind: 'star' } // *: any run without '/'
  | { kind: 'any' } // a trailing **: anything
  | { kind: 'dirs' } // **/: zero or more whole directories
  | { kind: 'class'; negate: boolean; ranges: Array<[string, string]> };

/** Go filepath.Match syntax (`*`, `?`, `[...]`, `\` escapes) plus `**`. */
export function compileGlob(pattern: string): Glob {
  const tokens: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          tokens.push({ kind: 'dirs' });
        } else tokens.push({ kind: 'any' });
      } else tokens.push({ kind: 'star' });
    } else if (c === '?') {
      tokens.push({ kind: 'one' });
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw invalid(`syntax error in pattern ${JSON.stringify(pattern)}`);
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      const chars = [...body.replace(/\\(.)/g, '$1')];
      const ranges: Array<[string, string]> = [];
      for (let j = 0; j < chars.length; j++) {
        if (chars[j + 1] === '-' && j + 2 < chars.length) {
          ranges.push([chars[j]!, chars[j + 2]!]);
          j += 2;
        } else ranges.push([chars[j]!, chars[j]!]);
      }
      tokens.push({ kind: 'class', negate, ranges });
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) {
      tokens.push({ kind: 'lit', c: pattern[++i]! });
    } else {
      tokens.push({ kind: 'lit', c });
    }
  }
  return { test: (path) => matchTokens(tokens, path) };
}

function matchTokens(tokens: Token[], s: string): boolean {
  const n = s.length;
  // memo[t * (n + 1) + i]: 0 unknown, 1 no, 2 yes; each state is solved once.
  const memo = new Uint8Array((tokens.length + 1) * (n + 1));
  const at = (t: number, i: number): boolean => {
    const k = t * (n + 1) + i;
    if (memo[k]) return memo[k] === 2;
    let ok = false;
    if (t === tokens.length) ok = i === n;
    else {
      const tok = tokens[t]!;
      switch (tok.kind) {
        case 'lit':
          ok = i < n && s[i] === tok.c && at(t + 1, i + 1);
          break;
        case 'one':
          ok = i < n && s[i] !== '/' && at(t + 1, i + 1);
          break;
        case 'class': {
          const ch = s[i];
          const hit = ch !== undefined && ch !== '/' && tok.ranges.some(([lo, hi]) => ch >= lo && ch <= hi);
          ok = ch !== undefined && ch !== '/' && hit !== tok.negate && at(t + 1, i + 1);
          break;
        }
        case 'star':
          // empty, or one more non-'/' character and still in the star
          ok = at(t + 1, i) || (i < n && s[i] !== '/' && at(t, i + 1));
          break;
        case 'any':
          ok = at(t + 1, i) || (i < n && at(t, i + 1));
          break;
        case 'dirs':
          // nothing, or up to and including the next '/', then again
          ok = at(t + 1, i);
          for (let j = i; !ok && j < n; j++) if (s[j] === '/') ok = at(t + 1, j + 1);
          break;
      }
    }
    memo[k] = ok ? 2 : 1;
    return ok;
  };
  return at(0, 0);
}

/** Whether `path` (relative, slash-separated) is excluded. */
export function isIgnored(patterns: IgnorePattern[], path: string): boolean {
  const parents: string[] = [];
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) parents.push(parts.slice(0, i).join('/'));
  let matched = false;
  for (const p of patterns) {
    let m = p.re.test(path);
    if (!m) m = parents.some((d) => p.re.test(d));
    if (m) matched = !p.exclusion;
  }
  return matched;
}

/** Whether some exception pattern could match below the directory `dir`
 * (then the walk must look inside an excluded directory). */
export function hasExceptionsBelow(patterns: IgnorePattern[], dir: string): boolean {
  return patterns.some((p) => p.exclusion && (p.text.startsWith(dir + '/') || p.text.includes('*') || p.text.includes('?') || p.text.includes('[')));
}
