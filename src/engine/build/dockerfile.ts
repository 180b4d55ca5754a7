// The Dockerfile parser: parser directives (escape; syntax is ignored),
// comments, line continuations, an instruction per logical line with its
// leading --flags and its exec (JSON) or shell form. Substitution happens
// later, at dispatch, with the stage's variables.
import { invalid } from '../../errdefs/index.ts';

export const INSTRUCTIONS = new Set([
  'FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR',
  'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
]);

export interface Instruction {
  /** Upper case: "RUN". */
  cmd: string;
  /** 1-based line where it starts. */
  line: number;
  /** As written, continuations joined: what "Step N/M : ..." shows. */
  original: string;
  /** Leading --name=value flags (a bare --name is "true"). */
  flags: Record<string, string>;
  /** The text after the flags. */
  args: string;
  /** The exec form when args is a JSON array of strings. */
  json?: string[];
}

export interface Dockerfile {
  escape: string;
  instructions: Instruction[];
  warnings: string[];
}

export function parseError(line: number, msg: string): Error {
  return invalid(`dockerfile parse error on line ${line}: ${msg}`);
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const HEREDOC = /<<-?\s*["']?[A-Za-z_][A-Za-z0-9_]*["']?/;

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let escape = '\\';
  let i = 0;
  const seen = new Set<string>();
  // Parser directives: only at the very top, before any other line.
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (key !== 'escape' && key !== 'syntax' && key !== 'check') break;
    if (seen.has(key)) throw parseError(i + 1, `only one ${key} parser directive can be used`);
    seen.add(key);
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw parseError(i + 1, `invalid escape token '${m[2]}' does not match ` + '` or \\');
      escape = m[2];
    }
  }
  const cont = new RegExp(`${escape === '\\' ? '\\\\' : '`'}[ \\t]*$`);
  const isSkippable = (l: string): boolean => l.trim() === '' || l.trimStart().startsWith('#');
  const instructions: Instruction[] = [];
  const warnings: string[] = [];
  while (i < lines.length) {
    if (isSkippable(lines[i]!)) {
      i++;
      continue;
    }
    const start = i + 1;
    let text = '';
    for (;;) {
      const l = lines[i++]!;
      const m = cont.exec(l);
      if (!m) {
        text += l;
        break;
      }
      text += l.slice(0, m.index);
      let blank = false;
      while (i < lines.length && isSkippable(lines[i]!)) {
        if (lines[i]!.trim() === '') blank = true;
        i++;
      }
      if (blank) warnings.push(`[WARNING]: Empty continuation line found in: ${text.trim()}`);
      if (i >= lines.length) break;
    }
    instructions.push(parseInstruction(text.trim(), start));
  }
  return { escape, instructions, warnings };
}

export function parseInstruction(text: string, line: number): Instruction {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(text);
  if (!m) throw parseError(line, 'empty instruction');
  const cmd = m[1]!.toUpperCase();
  if (!INSTRUCTIONS.has(cmd)) throw parseError(line, `unknown instruction: ${cmd}`);
  let rest = m[2]!;
  const flags: Record<string, string> = {};
  // ONBUILD's flags belong to the instruction it holds.
  if (cmd !== 'ONBUILD') {
    for (;;) {
      const f = /^--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
      if (!f) break;
      flags[f[1]!] = f[2] ?? 'true';
      rest = rest.slice(f[0].length);
    }
  }
  const args = rest.trim();
  if (['RUN', 'COPY', 'ADD'].includes(cmd) && HEREDOC.test(args) && !args.startsWith('[')) {
    throw parseError(line, `${cmd}: heredocs (<<EOF) are not supported by joey's builder`);
  }
  if (flags.mount !== undefined || flags.security !== undefined) {
    throw parseError(line, `${cmd} --${flags.mount !== undefined ? 'mount' : 'security'} requires BuildKit, which joey does not have`);
  }
  const inst: Instruction = { cmd, line, original: text, flags, args };
  if (args.startsWith('[')) {
    try {
      const v = JSON.parse(args) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) inst.json = v as string[];
    } catch {
      // not JSON: the shell form, as Docker falls back
    }
  }
  if (args === '' && !['CMD', 'ENTRYPOINT', 'RUN'].includes(cmd)) throw parseError(line, `${cmd} requires at least one argument`);
  return inst;
}

/** The allowed flags of each instruction; others are a parse error. */
const FLAGS: Record<string, string[]> = {
  FROM: ['platform'],
  COPY: ['from', 'chown', 'chmod', 'link', 'parents', 'exclude'],
  ADD: ['chown', 'chmod', 'link', 'checksum', 'keep-git-dir', 'exclude'],
  // RUN --network is BuildKit's and needs an entitlement there: a Dockerfile
  // must not pick host networking or another container's namespace for itself.
  RUN: ['network'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};

export function checkFlags(inst: Instruction): void {
  const allowed = FLAGS[inst.cmd] ?? [];
  for (const f of Object.keys(inst.flags)) {
    if (!allowed.includes(f)) throw parseError(inst.line, `unknown flag: --${f}`);
  }
  for (const f of ['parents', 'exclude', 'checksum', 'keep-git-dir', 'network']) {
    if (inst.flags[f] !== undefined) throw parseError(inst.line, `${inst.cmd} --${f} requires BuildKit, which joey does not have`);
  }
}
