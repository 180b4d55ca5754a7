// System endpoints: /_ping, /version, /info, /system/df, /auth, /events, /metrics.
import type { EventFilter } from '../../engine/types.ts';
import { invalid } from '../../errdefs/index.ts';
import { JsonLineStream, queryFilters, queryTimestamp, readJson, sendJson, sendText, toAuthConfig } from './http.ts';
import { METRICS_CONTENT_TYPE, processMetrics, type HttpMetrics } from './metrics.ts';
import type { RequestContext, Router } from './router.ts';
import { API_VERSION, MIN_API_VERSION, compareApiVersions } from './version.ts';

export function registerSystemRoutes(r: Router, deps: { metrics: HttpMetrics }): void {
  r.add('GET', '/_ping', ping);
  r.add('HEAD', '/_ping', ping);
  r.add('GET', '/version', version);
  r.add('GET', '/info', info);
  r.add('GET', '/system/df', diskUsage);
  r.add('POST', '/auth', auth);
  r.add('GET', '/events', events);
  r.add('GET', '/metrics', (ctx) => metrics(ctx, deps.metrics));
}

function ping({ req, res }: RequestContext): void {
  // Clients negotiate the API version from these headers, often with HEAD.
  res.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('Builder-Version', '');
  res.setHeader('Swarm', 'inactive');
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', 2);
  res.end(req.method === 'HEAD' ? undefined : 'OK');
}

function version({ engine, res }: RequestContext): void {
  // The API range is the adapter's to state, not the engine's.
  sendJson(res, 200, { ...engine.system.version(), ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION });
}

async function info({ engine, res }: RequestContext): Promise<void> {
  sendJson(res, 200, await engine.system.info());
}

/** `type` (repeatable) picks the parts from API 1.42 on; older clients get everything. */
async function diskUsage({ engine, apiVersion, query, res }: RequestContext): Promise<void> {
  const types = compareApiVersions(apiVersion, '1.42') >= 0 && query.has('type') ? query.getAll('type') : undefined;
  sendJson(res, 200, await engine.system.diskUsage({ types }));
}

async function auth({ engine, req, res }: RequestContext): Promise<void> {
  const body = await readJson(req);
  if (body === undefined) throw invalid('missing auth config in request body');
  const result = await engine.images.login(toAuthConfig(body) ?? {});
  sendJson(res, 200, { Status: result.Status, IdentityToken: result.IdentityToken ?? '' });
}

async function events({ engine, query, res, signal }: RequestContext): Promise<void> {
  const filter: EventFilter = {};
  const filters = queryFilters(query);
  if (filters) filter.filters = filters;
  const since = queryTimestamp(query, 'since');
  const until = queryTimestamp(query, 'until');
  if (since !== undefined) filter.since = since;
  if (until !== undefined) filter.until = until;
  if (since !== undefined && until !== undefined && since > until) throw invalid('since must be before until');

  const stream = new JsonLineStream(res);
  // Headers go out at once: clients wait for them before reading events.
  stream.start();
  await new Promise<void>((resolve) => {
    let done = false;
    let unsubscribe: (() => void) | undefined;
    const finish = (): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', finish);
      unsubscribe?.();
      stream.end();
      resolve();
    };
    signal.addEventListener('abort', finish, { once: true });
    unsubscribe = engine.events.subscribe(filter, (ev) => stream.write(ev), finish);
    // The bus may end a replay-only subscription before returning.
    if (done) unsubscribe();
    else if (signal.aborted) finish();
  });
}

async function metrics({ engine, res }: RequestContext, http: HttpMetrics): Promise<void> {
  const engineText = await engine.system.metrics();
  const body = http.render() + (engineText && !engineText.endsWith('\n') ? engineText + '\n' : engineText) + processMetrics();
  sendText(res, 200, METRICS_CONTENT_TYPE, body);
}
