// The p2p settings as joeyd takes them (--p2p-*, daemon.json p2p-*), checked
// once at start-up so that a typo stops the daemon with the flag's name.
import { invalid } from '../errdefs/index.ts';
import { parseServiceUrl, trimUrl } from '../util/url.ts';

export interface HostPort {
  host: string;
  port: number;
}

export interface P2PConfig {
  /** Where this daemon serves its blobs to peers (--p2p-listen). */
  listen?: HostPort;
  /** The URL peers reach the blob server at (--p2p-advertise; default from listen). */
  advertise?: string;
  /** The tracker this daemon announces to and asks for peers (--p2p-tracker). */
  tracker?: string;
  /** Where this daemon runs a tracker (--p2p-tracker-listen). */
  trackerListen?: HostPort;
  /** Sent by peers as `Authorization: Bearer …`; required. */
  secret: string;
  /** How often the held blobs are announced again (ms). */
  announceIntervalMs?: number;
}

export interface P2PSettings {
  listen?: string;
  advertise?: string;
  tracker?: string;
  trackerListen?: string;
  secret?: string;
}

/** "ADDR:PORT" or "[v6]:PORT"; the port must be given (0 is not allowed:
 * peers and the tracker must know it). */
export function parseHostPort(flag: string, s: string): HostPort {
  const v = s.trim();
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(v) ?? /^([^:[\]\s/]+):(\d+)$/.exec(v);
  if (!m) throw invalid(`invalid --${flag} ${JSON.stringify(s)}: expected ADDR:PORT, e.g. 0.0.0.0:7070 or 127.0.0.1:7070`);
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`invalid --${flag} ${JSON.stringify(s)}: the port must be 1-65535`);
  return { host: m[1]!, port };
}

function parseHttpUrl(flag: string, s: string): string {
  return trimUrl(parseServiceUrl(s, `--${flag}`));
}

const UNSPECIFIED = new Set(['0.0.0.0', '::', '']);

export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** undefined when p2p is off (no p2p setting at all). */
export function parseP2PSettings(s: P2PSettings): P2PConfig | undefined {
  const on = s.listen !== undefined || s.tracker !== undefined || s.trackerListen !== undefined || s.advertise !== undefined;
  if (!on) {
    if (s.secret !== undefined) throw invalid('--p2p-secret is set but p2p is off: give --p2p-listen, --p2p-tracker or --p2p-tracker-listen too');
    return undefined;
  }
  const secret = s.secret ?? '';
  if (secret === '') throw invalid('p2p needs a shared secret: give --p2p-secret (or "p2p-secret" in daemon.json)');
  if (secret.length < 16) throw invalid('--p2p-secret is too short: use at least 16 characters');
  if (/[\r\n]/.test(secret) || /^\s|\s$/.test(secret)) throw invalid('--p2p-secret must be one line without leading or trailing spaces');
  const listen = s.listen !== undefined ? parseHostPort('p2p-listen', s.listen) : undefined;
  const trackerListen = s.trackerListen !== undefined ? parseHostPort('p2p-tracker-listen', s.trackerListen) : undefined;
  const tracker = s.tracker !== undefined ? parseHttpUrl('p2p-tracker', s.tracker) : undefined;
  let advertise = s.advertise !== undefined ? parseHttpUrl('p2p-advertise', s.advertise) : undefined;
  if (advertise && !listen) throw invalid('--p2p-advertise needs --p2p-listen: it is where peers reach this daemon\'s blob server');
  if (listen && !advertise) {
    if (UNSPECIFIED.has(listen.host)) throw invalid(`--p2p-listen ${formatHostPort(listen)} listens on every address: give --p2p-advertise http://ADDR:${listen.port}, the address peers use`);
    advertise = `http://${formatHostPort(listen)}`;
  }
  if (listen && !tracker) throw invalid('--p2p-listen needs --p2p-tracker: peers find this daemon\'s blobs through a tracker');
  return {
    ...(listen ? { listen } : {}),
    ...(advertise ? { advertise } : {}),
    ...(tracker ? { tracker } : {}),
    ...(trackerListen ? { trackerListen } : {}),
    secret,
  };
}
