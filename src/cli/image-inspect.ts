// joey image inspect: the daemon's JSON as a 4-space indented array, or each
// image through a --format template.
import { escapePath } from '../client/client.ts';
import type { Cli } from './context.ts';
import { StatusError, displayError } from './errors.ts';
import { Template, TemplateError, TypedNil } from './format.ts';
import { compactJson, indentJson } from './json-text.ts';

// Fields that are Go nil slices or maps when null: docker's typed structs
// print them as "[]" and "map[]".
const SLICE_FIELDS = new Set(['Env', 'Cmd', 'Entrypoint', 'OnBuild', 'Shell', 'RepoTags', 'RepoDigests', 'Layers', 'Tags', 'Test']);
const MAP_FIELDS = new Set(['Labels', 'ExposedPorts', 'Volumes', 'Data', 'Options']);

/** Gives nulls their Go kind, for templates. */
export function typedNulls(v: unknown, key = ''): unknown {
  if (v === null) {
    if (SLICE_FIELDS.has(key)) return new TypedNil('slice');
    if (MAP_FIELDS.has(key)) return new TypedNil('map');
    return null;
  }
  if (Array.isArray(v)) return v.map((x) => typedNulls(x));
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = typedNulls(x, k);
    return out;
  }
  return v;
}

async function fetchRaw(cli: Cli, name: string): Promise<string> {
  const res = await cli.client.stream('GET', `/images/${escapePath(name)}/json`);
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function runInspect(cli: Cli, names: string[], opts: { format?: string }): Promise<void> {
  const format = opts.format ?? '';
  let tmpl: Template | undefined;
  if (format !== '' && format !== 'json') {
    try {
      tmpl = Template.parse(format);
    } catch (err) {
      if (err instanceof TemplateError) throw new StatusError(`template parsing error: ${err.message}`, 64);
      throw err;
    }
  }
  const errors: string[] = [];
  const raws: string[] = [];
  let buf = '';
  for (const name of names) {
    let raw: string;
    try {
      raw = await fetchRaw(cli, name);
    } catch (err) {
      errors.push(displayError(err));
      continue;
    }
    if (!tmpl) {
      raws.push(raw);
      continue;
    }
    try {
      buf += tmpl.execute(typedNulls(JSON.parse(raw)), { missingKey: 'error' }) + '\n';
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      errors.push(`template parsing error: ${err.message}`);
    }
  }
  if (tmpl) cli.out(buf === '' ? '\n' : buf);
  else if (raws.length === 0) cli.out('[]\n');
  else {
    const all = `[${raws.join(',')}]`;
    cli.out((format === 'json' ? compactJson(all) : indentJson(all, '    ')) + '\n');
  }
  if (errors.length > 0) throw new StatusError(errors.join('\n'));
}
