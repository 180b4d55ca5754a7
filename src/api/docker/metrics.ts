// HTTP request metrics of the Docker API and process metrics, in the
// Prometheus text exposition format 0.0.4.

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

// Seconds. Pulls and pushes stream for minutes; most other calls take ms.
const BUCKETS = [0.005, 0.025, 0.1, 0.5, 2.5, 10, 60];

interface Histogram {
  counts: number[]; // per bucket, not cumulative
  sum: number;
  count: number;
}

export class HttpMetrics {
  private readonly requests = new Map<string, number>();
  private readonly durations = new Map<string, Histogram>();

  /** Records one finished request. `route` is the route pattern
   * ("/images/{name}/json"), never the raw path, to bound the label set. */
  observe(method: string, route: string, code: number, seconds: number): void {
    const rkey = JSON.stringify([method, route, String(code)]);
    this.requests.set(rkey, (this.requests.get(rkey) ?? 0) + 1);
    const dkey = JSON.stringify([method, route]);
    let h = this.durations.get(dkey);
    if (!h) {
      h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.durations.set(dkey, h);
    }
    const i = BUCKETS.findIndex((b) => seconds <= b);
    if (i >= 0) h.counts[i]!++;
    h.sum += seconds;
    h.count++;
  }

  render(): string {
    const out: string[] = [];
    out.push('# HELP joey_http_requests_total Docker API requests by method, route and status code.');
    out.push('# TYPE joey_http_requests_total counter');
    for (const [key, n] of [...this.requests].sort()) {
      const [method, route, code] = JSON.parse(key) as string[];
      out.push(`joey_http_requests_total${labels({ method: method!, route: route!, code: code! })} ${n}`);
    }
    out.push('# HELP joey_http_request_duration_seconds Docker API request duration, until the response ended.');
    out.push('# TYPE joey_http_request_duration_seconds histogram');
    for (const [key, h] of [...this.durations].sort()) {
      const [method, route] = JSON.parse(key) as string[];
      const base = { method: method!, route: route! };
      let cumulative = 0;
      BUCKETS.forEach((b, i) => {
        cumulative += h.counts[i]!;
        out.push(`joey_http_request_duration_seconds_bucket${labels({ ...base, le: String(b) })} ${cumulative}`);
      });
      out.push(`joey_http_request_duration_seconds_bucket${labels({ ...base, le: '+Inf' })} ${h.count}`);
      out.push(`joey_http_request_duration_seconds_sum${labels(base)} ${h.sum}`);
      out.push(`joey_http_request_duration_seconds_count${labels(base)} ${h.count}`);
    }
    return out.join('\n') + '\n';
  }
}

/** Metrics of this Node process, named as prom-client names them. */
export function processMetrics(): string {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  const start = Date.now() / 1000 - process.uptime();
  return [
    '# HELP process_resident_memory_bytes Resident memory size in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    `process_resident_memory_bytes ${mem.rss}`,
    '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
    '# TYPE process_cpu_seconds_total counter',
    `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
    '# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.',
    '# TYPE process_start_time_seconds gauge',
    `process_start_time_seconds ${Math.floor(start)}`,
    '# HELP nodejs_heap_used_bytes Used heap size in bytes.',
    '# TYPE nodejs_heap_used_bytes gauge',
    `nodejs_heap_used_bytes ${mem.heapUsed}`,
  ].join('\n') + '\n';
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return `{${parts.join(',')}}`;
}
