// Volume endpoints: list, inspect, remove. Create and prune come with named
// volumes; until then they answer 501 with a clear message.
import { notImplemented } from '../../errdefs/index.ts';
import { queryBool, queryFilters, sendEmpty, sendJson } from './http.ts';
import type { RequestContext, Router } from './router.ts';

export function registerVolumeRoutes(r: Router): void {
  r.add('GET', '/volumes', list);
  r.add('POST', '/volumes/create', () => {
    throw notImplemented('docker volume create is not implemented yet: name a volume in `-v NAME:/path` to make one');
  });
  r.add('POST', '/volumes/prune', () => {
    throw notImplemented('docker volume prune is not implemented yet');
  });
  r.add('GET', '/volumes/{name}', inspect);
  r.add('DELETE', '/volumes/{name}', remove);
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
