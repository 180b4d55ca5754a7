// joey history: IMAGE CREATED CREATED BY SIZE COMMENT, as docker prints it.
import type { HistoryEntry } from '../images/types.ts';
import { escapePath } from '../client/client.ts';
import type { Cli } from './context.ts';
import { goJson, goStruct } from './format.ts';
import { TABLE, renderRows } from './formatter.ts';
import { ellipsis, humanDuration, humanSizeWithPrecision, rfc3339, truncateId } from './units.ts';

export interface HistoryOptions {
  format?: string;
  human?: boolean;
  noTrunc?: boolean;
  quiet?: boolean;
}

const DEFAULT_TABLE = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const NON_HUMAN_TABLE = 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';

export const HISTORY_HEADERS: Record<string, string> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

/** Dates before 2000 are shown as N/A: they are placeholders, not history. */
const EPOCH = Date.UTC(2000, 0, 1) / 1000;

export function historyFormat(format: string, quiet: boolean, human: boolean): string {
  if (format !== TABLE) return format;
  if (quiet) return '{{.ID}}';
  return human ? DEFAULT_TABLE : NON_HUMAN_TABLE;
}

export function historyContext(h: HistoryEntry, opts: { trunc: boolean; human: boolean }, now = Date.now()) {
  const createdAt = rfc3339(h.Created);
  const createdBy = (h.CreatedBy ?? '').replace(/\t/g, ' ');
  const fields = {
    Comment: h.Comment ?? '',
    CreatedAt: createdAt,
    CreatedBy: opts.trunc ? ellipsis(createdBy, 45) : createdBy,
    CreatedSince: !opts.human ? createdAt : h.Created <= EPOCH ? 'N/A' : humanDuration(now - h.Created * 1000) + ' ago',
    ID: opts.trunc ? truncateId(h.Id) : h.Id,
    Size: opts.human ? humanSizeWithPrecision(h.Size, 3) : String(h.Size),
  };
  return goStruct('*image.historyContext', fields, () => goJson({ ...fields }, true));
}

export function renderHistory(entries: HistoryEntry[], opts: HistoryOptions, now = Date.now()): string {
  const human = opts.human !== false;
  const format = historyFormat(opts.format || TABLE, !!opts.quiet, human);
  const rows = entries.map((h) => historyContext(h, { trunc: !opts.noTrunc, human }, now));
  return renderRows(format, rows, HISTORY_HEADERS);
}

export async function runHistory(cli: Cli, image: string, opts: HistoryOptions): Promise<void> {
  const entries = await cli.client.get<HistoryEntry[]>(`/images/${escapePath(image)}/history`);
  cli.out(renderHistory(entries ?? [], opts));
}
