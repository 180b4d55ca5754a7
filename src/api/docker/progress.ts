// The engine's neutral Progress → Docker's JSON progress messages, field for
// field as dockerd's streamformatter writes them, so that the docker CLI
// (jsonmessage) draws its bars and docker-py/compose parse the same lines.
import type { Progress } from '../../images/types.ts';

/** Docker's jsonmessage.JSONMessage, in its JSON field order. */
export interface DockerMessage {
  stream?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  id?: string;
  errorDetail?: { message: string };
  error?: string;
  aux?: unknown;
}

/** What the stream is for: the same neutral phase reads differently in a pull
 * ("Pulling fs layer") and a push ("Preparing"). */
export type ProgressMode = 'pull' | 'push' | 'load';

const PHASE_STATUS: Record<Exclude<Extract<Progress, { kind: 'layer' }>['phase'], 'waiting' | 'mounted'>, string> = {
  downloading: 'Downloading',
  verifying: 'Verifying Checksum',
  'download-complete': 'Download complete',
  extracting: 'Extracting',
  'pull-complete': 'Pull complete',
  'already-exists': 'Already exists',
  pushing: 'Pushing',
  pushed: 'Pushed',
  'layer-exists': 'Layer already exists',
  retrying: 'Retrying',
  loading: 'Loading layer',
};

const WAITING_STATUS: Record<ProgressMode, string> = {
  pull: 'Pulling fs layer',
  push: 'Preparing',
  load: 'Loading layer',
};

// dockerd sends "Pulling from <repo>" with the tag or digest as the id
// ("latest: Pulling from library/busybox" on a terminal). An engine message
// without an id that says it as one line is split back.
const PULLING_FROM = /^(\S+): (Pulling from .+)$/;

export function toDockerMessage(p: Progress, mode: ProgressMode): DockerMessage {
  switch (p.kind) {
    case 'message': {
      if (p.id) return { status: p.text, id: p.id };
      const m = PULLING_FROM.exec(p.text);
      return m ? { status: m[2], id: m[1] } : { status: p.text };
    }
    case 'aux':
      return { progressDetail: {}, aux: p.data };
    case 'layer': {
      const status =
        p.phase === 'waiting' ? WAITING_STATUS[mode] : p.phase === 'mounted' ? `Mounted from ${p.from ?? ''}`.trimEnd() : PHASE_STATUS[p.phase];
      const detail: { current?: number; total?: number } = {};
      // Go's omitempty drops zeros, and so does the CLI's bar.
      if (p.current) detail.current = p.current;
      if (p.total) detail.total = p.total;
      const msg: DockerMessage = { status, progressDetail: detail };
      const bar = progressBar(detail.current ?? 0, detail.total ?? 0);
      if (bar) msg.progress = bar;
      msg.id = p.id;
      return msg;
    }
  }
}

/** The JSON line (with its newline) for one progress event. */
export function progressLine(p: Progress, mode: ProgressMode): string {
  return JSON.stringify(toDockerMessage(p, mode)) + '\n';
}

const BAR_WIDTH = 50;

/** The "[====>   ]  1.2MB/4.5MB" string dockerd puts in `progress`, as
 * jsonmessage.JSONProgress.String() renders it on the server side (width 200,
 * no start time, so no time-left box). Empty when there is nothing to show. */
export function progressBar(current: number, total: number): string {
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return humanSize(current).padStart(8);
  const filled = Math.min(BAR_WIDTH, Math.trunc(Math.trunc((current / total) * 100) / 2));
  const box = `[${'='.repeat(filled)}>${' '.repeat(BAR_WIDTH - filled)}] `;
  const cur = humanSize(current).padStart(8);
  // A current beyond the total is a wonky report: show only the current.
  return box + (current > total ? cur : `${cur}/${humanSize(total)}`);
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** go-units HumanSize: decimal units, four significant digits, no space
 * ("2.152MB", "512B", "1.5kB") — the sizes every docker command prints. */
export function humanSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${formatG4(size)}${DECIMAL_UNITS[i]}`;
}

// Go's %.4g for the range humanSize produces (0 ≤ x < 1000, or 1000 after
// rounding): at most four significant digits, trailing zeros dropped.
function formatG4(x: number): string {
  if (x === 0) return '0';
  return String(Number(x.toPrecision(4)));
}
