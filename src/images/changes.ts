// Dockerfile instructions applied to an image config by `import --change`
// (and later by `commit --change`).
import { invalid } from '../errdefs/index.ts';
import type { ImageConfig } from './types.ts';

const ALLOWED = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'USER', 'VOLUME', 'WORKDIR', 'STOPSIGNAL', 'ONBUILD']);

/** JSON array form, or shell form wrapped in /bin/sh -c. */
function execForm(args: string): string[] {
  const t = args.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch {
      // not JSON: shell form, as Docker falls back
    }
  }
  return ['/bin/sh', '-c', t];
}

/** Splits `k=v k2="v 2"` pairs, or the legacy `KEY value` form. */
function pairs(args: string, instr: string): Array<[string, string]> {
  const t = args.trim();
  if (!t) throw invalid(`${instr} requires at least one argument`);
  const firstWord = /^\S+/.exec(t)![0];
  if (!firstWord.includes('=')) {
    const rest = t.slice(firstWord.length).trim();
    if (!rest) throw invalid(`${instr} ${firstWord}: missing value`);
    return [[firstWord, rest]];
  }
  const out: Array<[string, string]> = [];
  const re = /([^\s=]+)=("((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))/g;
  let m: RegExpExecArray | null;
  let consumed = '';
  while ((m = re.exec(t))) {
    out.push([m[1]!, m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : (m[4] ?? m[5] ?? '')]);
    consumed += m[0];
  }
  if (out.length === 0) throw invalid(`${instr}: cannot parse "${t}"`);
  return out;
}

export function applyChanges(config: ImageConfig, changes: string[]): ImageConfig {
  const c: ImageConfig = { ...config };
  for (const raw of changes) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(line)!;
    const instr = m[1]!.toUpperCase();
    const args = m[2]!;
    if (!ALLOWED.has(instr)) throw invalid(`${m[1]} is not a valid change command`);
    switch (instr) {
      case 'CMD':
        c.Cmd = execForm(args);
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = execForm(args);
        break;
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of pairs(args, 'ENV')) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case 'LABEL': {
        c.Labels = { ...(c.Labels ?? {}) };
        for (const [k, v] of pairs(args, 'LABEL')) c.Labels[k] = v;
        break;
      }
      case 'EXPOSE': {
        c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
        for (const p of args.trim().split(/\s+/)) {
          if (!/^\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp))?$/i.test(p)) throw invalid(`EXPOSE: invalid port "${p}"`);
          c.ExposedPorts[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        break;
      }
      case 'USER':
        c.User = args.trim();
        break;
      case 'WORKDIR':
        c.WorkingDir = args.trim();
        break;
      case 'STOPSIGNAL':
        c.StopSignal = args.trim();
        break;
      case 'VOLUME': {
        c.Volumes = { ...(c.Volumes ?? {}) };
        const t = args.trim();
        const vols = t.startsWith('[') ? (JSON.parse(t) as string[]) : t.split(/\s+/);
        for (const v of vols) c.Volumes[v] = {};
        break;
      }
      case 'ONBUILD':
        c.OnBuild = [...(c.OnBuild ?? []), args.trim()];
        break;
    }
  }
  return c;
}
