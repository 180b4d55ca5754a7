// Volume endpoints: create, list, inspect, remove, prune. Each decodes the
// request, makes one engine call and encodes the answer.
import { invalid } from '../../errdefs/index.ts';
import type { VolumeCreateRequest } from '../../engine/volumes/types.ts';
import { queryBool, queryFilters, readJson, sendEmpty, sendJson } from './http.ts';
import type { RequestContext, Router } from './router.ts';
import { compareApiVersions } from './version.ts';

export function registerVolumeRoutes(r: Router): void {
  r.add('GET', '/volumes', list);
  r.add('POST', '/volumes/create', create);
  r.add('POST', '/volumes/prune', prune);
  r.add('GET', '/volumes/{name}', inspect);
  r.add('DELETE', '/volumes/{name}', remove);
}

async function create({ engine, req, res }: RequestContext): Promise<void> {
  const body = (await readJson(req)) ?? {};
  if (typeof body !== 'object' || Array.isArray(body)) throw invalid('the request body must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const k of ['Name', 'Driver'] as const) if (b[k] !== undefined && b[k] !== null && typeof b[k] !== 'string') throw invalid(`${k} must be a string`);
  sendJson(res, 201, await engine.volumes.create(b as VolumeCreateRequest));
}

async function list({ engine, query, res }: RequestContext): Promise<void> {
  sendJson(res, 200, await engine.volumes.list({ filters: queryFilters(query) }));
}

async function inspect({ engine, params, res }: RequestContext): Promise<void> {
  sendJson(res, 200, await engine.volumes.inspect(params.name!));
}

async function remove({ engine, params, query, res }: RequestContext): Promise<void> {
  await engine.volumes.remove(params.name!, { force: queryBool(query, 'force') });
  sendEmpty(res, 204);
}

/** Before API 1.42 a prune took every unused volume; since, only anonymous ones unless `all=true`. */
async function prune({ engine, apiVersion, query, res }: RequestContext): Promise<void> {
  sendJson(res, 200, await engine.volumes.prune({ filters: queryFilters(query), all: compareApiVersions(apiVersion, '1.42') < 0 }));
}
