// Container endpoints. For now only the listing, empty, so that the docker
// CLI's image commands (which ask which containers use an image) work before
// the engine has containers.
import { sendJson } from './http.ts';
import type { Router } from './router.ts';

export function registerContainerRoutes(r: Router): void {
  r.add('GET', '/containers/json', ({ res }) => sendJson(res, 200, []));
}
