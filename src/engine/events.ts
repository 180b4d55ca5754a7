// The event bus behind GET /events: a bounded in-memory history for `since`,
// and live subscribers with Docker's filters.
import type { EngineEvent, EventBus, EventFilter } from './types.ts';

const HISTORY = 1024;

function matches(ev: EngineEvent, filters: Record<string, string[]> | undefined): boolean {
  if (!filters) return true;
  for (const [key, vals] of Object.entries(filters)) {
    if (!vals.length) continue;
    const ok = vals.some((v) => {
      switch (key) {
        case 'type':
          return ev.Type === v;
        case 'event':
        case 'action':
          return ev.Action === v || ev.Action.startsWith(v + ':');
        case 'image':
          return ev.Type === 'image' ? ev.Actor.ID === v || ev.Actor.Attributes.name === v || ev.Actor.ID.startsWith(v) : ev.Actor.Attributes.image === v;
        case 'container':
          return ev.Type === 'container' && (ev.Actor.ID.startsWith(v) || ev.Actor.Attributes.name === v);
        case 'label': {
          const eq = v.indexOf('=');
          return eq < 0 ? v in ev.Actor.Attributes : ev.Actor.Attributes[v.slice(0, eq)] === v.slice(eq + 1);
        }
        case 'scope':
          return v === 'local';
        case 'volume':
        case 'network':
          return ev.Type === key && (ev.Actor.ID === v || ev.Actor.Attributes.name === v);
        case 'daemon':
          return ev.Type === 'daemon';
        default:
          return false;
      }
    });
    if (!ok) return false;
  }
  return true;
}

export const EVENT_FILTERS = new Set(['type', 'event', 'action', 'image', 'container', 'label', 'scope', 'volume', 'network', 'daemon']);

export class Events implements EventBus {
  private readonly history: EngineEvent[] = [];
  private readonly subs = new Set<(ev: EngineEvent) => void>();

  publish(ev: Omit<EngineEvent, 'time' | 'timeNano' | 'scope'>): void {
    const nowNs = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
    const full: EngineEvent = { ...ev, scope: 'local', time: Number(nowNs / 1_000_000_000n), timeNano: Number(nowNs) };
    this.history.push(full);
    if (this.history.length > HISTORY) this.history.shift();
    for (const s of this.subs) s(full);
  }

  subscribe(filter: EventFilter, onEvent: (ev: EngineEvent) => void, onEnd?: () => void): () => void {
    const nowSec = Date.now() / 1000;
    const inRange = (ev: EngineEvent) => {
      const t = ev.timeNano / 1e9;
      return (filter.since === undefined || t >= filter.since) && (filter.until === undefined || t <= filter.until);
    };
    if (filter.since !== undefined) for (const ev of this.history) if (inRange(ev) && matches(ev, filter.filters)) onEvent(ev);
    let timer: NodeJS.Timeout | undefined;
    const stop = () => {
      this.subs.delete(live);
      if (timer) clearTimeout(timer);
    };
    const live = (ev: EngineEvent) => {
      if (inRange(ev) && matches(ev, filter.filters)) onEvent(ev);
    };
    if (filter.until !== undefined && filter.until <= nowSec) {
      queueMicrotask(() => onEnd?.());
      return () => undefined;
    }
    this.subs.add(live);
    if (filter.until !== undefined) {
      timer = setTimeout(() => {
        stop();
        onEnd?.();
      }, (filter.until - nowSec) * 1000);
    }
    return stop;
  }
}
