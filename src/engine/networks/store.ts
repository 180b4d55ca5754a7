// Network and endpoint rows in SQLite (metadata/schema.ts, migration 4).
// Synchronous, so that callers can group writes in one transaction.
import type { Database } from '../../metadata/db.ts';
import type { EndpointConfig, EndpointRecord, EndpointState, NetworkRecord } from './types.ts';

interface NetworkRow {
  id: string;
  name: string;
  driver: string;
  bridge: string;
  subnet: string;
  gateway: string;
  ip_range: string;
  enable_ipv6: number;
  enable_ipv4: number;
  subnet6: string;
  gateway6: string;
  ip_range6: string;
  internal: number;
  labels: string;
  options: string;
  created_at: string;
}

interface EndpointRow {
  container_id: string;
  network_id: string;
  idx: number;
  config: string;
  state: string | null;
}

const network = (r: NetworkRow): NetworkRecord => ({
  id: r.id,
  name: r.name,
  driver: r.driver,
  bridge: r.bridge,
  subnet: r.subnet,
  gateway: r.gateway,
  ipRange: r.ip_range,
  ipv4: r.enable_ipv4 !== 0,
  ipv6: r.enable_ipv6 === 1,
  subnet6: r.subnet6,
  gateway6: r.gateway6,
  ipRange6: r.ip_range6,
  internal: r.internal === 1,
  labels: JSON.parse(r.labels),
  options: JSON.parse(r.options),
  createdAt: r.created_at,
});

const endpoint = (r: EndpointRow): EndpointRecord => ({
  containerId: r.container_id,
  networkId: r.network_id,
  idx: r.idx,
  config: JSON.parse(r.config) as EndpointConfig,
  state: r.state === null ? null : (JSON.parse(r.state) as EndpointState),
});

export class NetworkStore {
  constructor(readonly db: Database) {}

  insert(n: NetworkRecord): void {
    this.db.db
      .prepare('INSERT INTO networks (id, name, driver, bridge, subnet, gateway, ip_range, enable_ipv4, enable_ipv6, subnet6, gateway6, ip_range6, internal, labels, options, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(n.id, n.name, n.driver, n.bridge, n.subnet, n.gateway, n.ipRange, n.ipv4 ? 1 : 0, n.ipv6 ? 1 : 0, n.subnet6, n.gateway6, n.ipRange6, n.internal ? 1 : 0, JSON.stringify(n.labels), JSON.stringify(n.options), n.createdAt);
  }

  update(n: NetworkRecord): void {
    this.db.db.prepare('UPDATE networks SET bridge = ?, subnet = ?, gateway = ?, ip_range = ?, enable_ipv6 = ?, subnet6 = ?, gateway6 = ?, ip_range6 = ? WHERE id = ?')
      .run(n.bridge, n.subnet, n.gateway, n.ipRange, n.ipv6 ? 1 : 0, n.subnet6, n.gateway6, n.ipRange6, n.id);
  }

  all(): NetworkRecord[] {
    return (this.db.db.prepare('SELECT * FROM networks ORDER BY created_at, name').all() as NetworkRow[]).map(network);
  }

  get(id: string): NetworkRecord | undefined {
    const r = this.db.db.prepare('SELECT * FROM networks WHERE id = ?').get(id) as NetworkRow | undefined;
    return r && network(r);
  }

  byName(name: string): NetworkRecord | undefined {
    const r = this.db.db.prepare('SELECT * FROM networks WHERE name = ?').get(name) as NetworkRow | undefined;
    return r && network(r);
  }

  delete(id: string): void {
    this.db.db.prepare('DELETE FROM networks WHERE id = ?').run(id);
  }

  endpoints(): EndpointRecord[] {
    return (this.db.db.prepare('SELECT * FROM endpoints ORDER BY container_id, idx').all() as EndpointRow[]).map(endpoint);
  }

  endpointsOf(containerId: string): EndpointRecord[] {
    return (this.db.db.prepare('SELECT * FROM endpoints WHERE container_id = ? ORDER BY idx').all(containerId) as EndpointRow[]).map(endpoint);
  }

  endpointsOn(networkId: string): EndpointRecord[] {
    return (this.db.db.prepare('SELECT * FROM endpoints WHERE network_id = ? ORDER BY idx').all(networkId) as EndpointRow[]).map(endpoint);
  }

  putEndpoint(e: EndpointRecord): void {
    this.db.db
      .prepare('INSERT INTO endpoints (container_id, network_id, idx, config, state) VALUES (?, ?, ?, ?, ?) ON CONFLICT (container_id, network_id) DO UPDATE SET idx = excluded.idx, config = excluded.config, state = excluded.state')
      .run(e.containerId, e.networkId, e.idx, JSON.stringify(e.config), e.state === null ? null : JSON.stringify(e.state));
  }

  setState(containerId: string, networkId: string, state: EndpointState | null): void {
    this.db.db.prepare('UPDATE endpoints SET state = ? WHERE container_id = ? AND network_id = ?').run(state === null ? null : JSON.stringify(state), containerId, networkId);
  }

  /** A value of daemon_settings (migration 9). */
  setting(key: string): string | undefined {
    return (this.db.db.prepare('SELECT value FROM daemon_settings WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  /** Sets `key` unless it is set already; returns the value that holds. */
  settingOnce(key: string, value: string): string {
    this.db.db.prepare('INSERT INTO daemon_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run(key, value);
    return this.setting(key)!;
  }

  deleteEndpoint(containerId: string, networkId: string): void {
    this.db.db.prepare('DELETE FROM endpoints WHERE container_id = ? AND network_id = ?').run(containerId, networkId);
  }
}
