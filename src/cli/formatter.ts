// docker's formatter.Context: a `--format` value is "table", "table TEMPLATE",
// "json" or a bare TEMPLATE; rows are rendered into a buffer, tables get a
// header row and go through the tab writer. Nothing is printed on an error.
import { HEADER_FUNCS, Template, TemplateError } from './format.ts';
import type { FuncMap } from './format.ts';
import { tabwrite } from './tabwriter.ts';
import { StatusError } from './errors.ts';

export const TABLE = 'table';
export const JSON_FORMAT = 'json';

export const isTable = (format: string): boolean => format.startsWith(TABLE);

/** The template text docker executes for a format value. */
export function templateString(format: string): string {
  if (format === TABLE) return '';
  if (format === JSON_FORMAT) return '{{json .}}';
  let out = isTable(format) ? format.slice(TABLE.length) : format;
  out = out.replace(/^ +| +$/g, '');
  return out.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

/** Parses a format; a bad one is docker's "template parsing error". */
export function parseFormat(format: string, opts: { funcs?: FuncMap; status?: number } = {}): Template {
  try {
    return Template.parse(templateString(format), { funcs: opts.funcs });
  } catch (err) {
    if (err instanceof TemplateError) throw new StatusError(`template parsing error: ${err.message}`, opts.status ?? 1);
    throw err;
  }
}

/** Renders rows with a format; `header` maps field names to column titles
 * (and may hold methods, such as `.Label "name"`). */
export function renderRows(format: string, rows: unknown[], header: Record<string, unknown>): string {
  const tmpl = parseFormat(format);
  let buf = '';
  for (const row of rows) {
    try {
      buf += tmpl.execute(row);
    } catch (err) {
      if (err instanceof TemplateError) throw new StatusError(`template parsing error: ${err.message}`);
      throw err;
    }
    buf += '\n';
  }
  if (!isTable(format)) return buf;
  // docker ignores errors in the header row and keeps what was written
  const head = tmpl.withFuncs(HEADER_FUNCS).tryExecute(header).out;
  return tabwrite(`${head}\n${buf}`, 10, 3);
}
