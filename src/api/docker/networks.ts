// Network endpoints: list, inspect, create, remove, prune, connect, disconnect.
import { invalid } from '../../errdefs/index.ts';
import type { CreateNetworkRequest, EndpointSettingsRequest } from '../../engine/networks/types.ts';
import { queryFilters, readJson, sendEmpty, sendJson } from './http.ts';
import type { RequestContext, Router } from './router.ts';
import { compareApiVersions } from './version.ts';

export function registerNetworkRoutes(r: Router): void {
  r.add('GET', '/networks', list);
  r.add('POST', '/networks/create', create);
  r.add('POST', '/networks/prune', prune);
  r.add('GET', '/networks/{id}', inspect);
  r.add('DELETE', '/networks/{id}', remove);
  r.add('POST', '/networks/{id}/connect', connect);
  r.add('POST', '/networks/{id}/disconnect', disconnect);
}

async function body<T>(ctx: RequestContext): Promise<T> {
  const b = await readJson(ctx.req);
  if (!b || typeof b !== 'object') throw invalid('a JSON object body is required');
  return b as T;
}

async function list({ engine, query, res }: RequestContext): Promise<void> {
  sendJson(res, 200, await engine.networks.list({ filters: queryFilters(query) }));
}

async function inspect({ engine, params, res }: RequestContext): Promise<void> {
  sendJson(res, 200, await engine.networks.inspect(params.id!));
}

async function create(ctx: RequestContext): Promise<void> {
  const req = await body<CreateNetworkRequest>(ctx);
  // EnableIPv4 came with API 1.47; an older client's request means IPv4 on, as dockerd reads it.
  if (compareApiVersions(ctx.apiVersion, '1.47') < 0) delete req.EnableIPv4;
  else if (req.EnableIPv4 !== undefined && req.EnableIPv4 !== null && typeof req.EnableIPv4 !== 'boolean') throw invalid(`EnableIPv4 must be true or false, got ${JSON.stringify(req.EnableIPv4)}`);
  sendJson(ctx.res, 201, await ctx.engine.networks.create(req));
}

async function remove({ engine, params, res }: RequestContext): Promise<void> {
  await engine.networks.remove(params.id!);
  sendEmpty(res, 204);
}

async function prune({ engine, query, res }: RequestContext): Promise<void> {
  sendJson(res, 200, await engine.networks.prune(queryFilters(query) ?? {}));
}

async function connect(ctx: RequestContext): Promise<void> {
  const b = await body<{ Container?: string; EndpointConfig?: EndpointSettingsRequest | null }>(ctx);
  if (!b.Container) throw invalid('Container is required');
  await ctx.engine.networks.connect(ctx.params.id!, b.Container, b.EndpointConfig ?? {});
  sendEmpty(ctx.res, 200);
}

async function disconnect(ctx: RequestContext): Promise<void> {
  const b = await body<{ Container?: string; Force?: boolean }>(ctx);
  if (!b.Container) throw invalid('Container is required');
  await ctx.engine.networks.disconnect(ctx.params.id!, b.Container, !!b.Force);
  sendEmpty(ctx.res, 200);
}
