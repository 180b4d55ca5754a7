// joey events: GET /events streamed as docker prints it, one line per event,
// until the daemon ends the stream (--until) or the user interrupts.
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { Template, TemplateError, TypedNil, goJson, goStruct } from './format.ts';
import { JSON_FORMAT } from './formatter.ts';
import { filtersParam, toFilters } from './filters.ts';
import { apiTimestamp } from './go-values.ts';
import { readLines } from './jsonmessage.ts';
import { rfc3339NanoFixed } from './units.ts';

export interface EventsOptions {
  filter?: string[];
  since?: string;
  until?: string;
  format?: string;
}

/** An event as the API sends it. */
interface ApiEvent {
  status?: string;
  id?: string;
  from?: string;
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> | null };
  scope?: string;
  time?: number;
  timeNano?: number;
}

/** docker's events.Message: TimeNano is kept exact (a double cannot hold it). */
function message(ev: ApiEvent, timeNano: bigint, typeName = 'events.Message') {
  const attrs = ev.Actor?.Attributes;
  const fields = {
    Status: ev.status ?? '',
    ID: ev.id ?? '',
    From: ev.from ?? '',
    Type: ev.Type ?? '',
    Action: ev.Action ?? '',
    Actor: goStruct('events.Actor', { ID: ev.Actor?.ID ?? '', Attributes: attrs ?? new TypedNil('map') }),
    Scope: ev.scope ?? '',
    Time: ev.time ?? 0,
    TimeNano: timeNano,
  };
  // encoding/json of the struct: tags, omitempty, struct order
  const marshal = () => {
    const parts: string[] = [];
    const add = (key: string, v: unknown, omitEmpty: boolean) => {
      if (omitEmpty && (v === '' || v === 0 || v === 0n)) return;
      parts.push(`${JSON.stringify(key)}:${goJson(v)}`);
    };
    add('status', fields.Status, true);
    add('id', fields.ID, true);
    add('from', fields.From, true);
    add('Type', fields.Type, false);
    add('Action', fields.Action, false);
    add('Actor', fields.Actor, false);
    add('scope', fields.Scope, true);
    add('time', fields.Time, true);
    add('timeNano', fields.TimeNano, true);
    return `{${parts.join(',')}}`;
  };
  return goStruct(typeName, fields, marshal);
}

/** The exact digits of the top-level "timeNano" in an event's JSON text. */
function exactTimeNano(line: string, parsed: number | undefined): bigint {
  if (typeof parsed !== 'number') return 0n;
  for (const m of line.matchAll(/"timeNano"\s*:\s*(-?\d+)(?=[\s,}])/g)) {
    if (Number(m[1]) === parsed) return BigInt(m[1]!);
  }
  return BigInt(Math.trunc(parsed));
}

/** docker's prettyPrintEvent. */
export function prettyEvent(ev: ApiEvent, timeNano: bigint): string {
  let out = '';
  if (timeNano !== 0n) out += rfc3339NanoFixed(timeNano) + ' ';
  else if (ev.time) out += rfc3339NanoFixed(BigInt(ev.time) * 1_000_000_000n) + ' ';
  out += `${ev.Type ?? ''} ${ev.Action ?? ''} ${ev.Actor?.ID ?? ''}`;
  const attrs = ev.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length > 0) out += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return out + '\n';
}

/** docker's makeTemplate: "json" is {{json .}}; a template that fails on an
 * empty message is refused before anything is asked of the daemon. */
function eventsTemplate(format: string | undefined): Template | undefined {
  if (!format) return undefined;
  const text = format === JSON_FORMAT ? '{{json .}}' : format;
  try {
    const tmpl = Template.parse(text);
    tmpl.execute(message({}, 0n, '*events.Message'));
    return tmpl;
  } catch (err) {
    if (err instanceof TemplateError) throw new StatusError(`Error parsing format: ${err.message}`, 64);
    throw err;
  }
}

export async function runEvents(cli: Cli, opts: EventsOptions): Promise<void> {
  const tmpl = eventsTemplate(opts.format);
  const now = Date.now();
  const res = await cli.client.stream('GET', '/events', {
    query: {
      since: opts.since ? apiTimestamp(opts.since, now) : undefined,
      until: opts.until ? apiTimestamp(opts.until, now) : undefined,
      filters: filtersParam(toFilters(opts.filter)),
    },
  });
  for await (const line of readLines(res)) {
    const ev = JSON.parse(line) as ApiEvent;
    const timeNano = exactTimeNano(line, ev.timeNano);
    if (!tmpl) {
      cli.out(prettyEvent(ev, timeNano));
      continue;
    }
    const { out, error } = tmpl.tryExecute(message(ev, timeNano));
    cli.out(out + '\n');
    if (error) throw new StatusError(error.message);
  }
}
