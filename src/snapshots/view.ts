// A read-only view of an active snapshot: its upper dir becomes the top lower
// layer, so that a stopped container's files can be read (export, cp, stat)
// without a writable mount that would clash with a start meanwhile. Overlay
// honours whiteouts and opaque directories in lower layers as in the upper.
import type { Mount } from './types.ts';

export function readOnlyMounts(mounts: Mount[]): Mount[] {
  return mounts.map((m) => {
    if (m.type === 'bind') return { ...m, options: [...m.options.filter((o) => o !== 'rw' && o !== 'ro'), 'ro'] };
    if (m.type !== 'overlay') return m;
    let upper: string | undefined;
    let lower: string | undefined;
    const rest: string[] = [];
    for (const o of m.options) {
      if (o.startsWith('upperdir=')) upper = o.slice('upperdir='.length);
      else if (o.startsWith('lowerdir=')) lower = o.slice('lowerdir='.length);
      else if (!o.startsWith('workdir=') && o !== 'rw') rest.push(o);
    }
    if (upper === undefined) return { ...m, options: [...rest, ...(lower ? [`lowerdir=${lower}`] : [])] };
    if (!lower) return { type: 'bind', source: upper, options: ['rbind', 'ro'] };
    return { ...m, options: [...rest, `lowerdir=${upper}:${lower}`] };
  });
}
