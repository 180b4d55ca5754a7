// .dockerignore: Go filepath.Match patterns on context-relative paths, with
// `**` for any number of directories and `!` for exceptions. The last
// pattern that matches a path decides; a pattern that matches a parent
// directory matches everything below it.
import { posix } from 'node:path';
import { invalid } from '../../errdefs/index.ts';

export interface IgnorePattern {
  exclusion: boolean;
  re: RegExp;
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
    out.push({ exclusion, re: globToRegExp(p), text: p });
  }
  return out;
}

/** Go filepath.Match syntax (`*`, `?`, `[...]`, `\` escapes) plus `**`. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        // "**/" matches zero or more directories; a trailing "**" anything.
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw invalid(`syntax error in pattern ${JSON.stringify(pattern)}`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '^' + cls.slice(1);
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) {
      re += escapeRe(pattern[++i]!);
    } else {
      re += escapeRe(c);
    }
  }
  return new RegExp(`^${re}$`);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
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
