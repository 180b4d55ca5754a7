// A tiny router: method + path pattern → handler. Patterns name their
// parameters: `{id}` matches one path segment, `{name*}` one or more (image
// names carry slashes and ports: /images/127.0.0.1:5000/team/app:v1/json).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Engine } from '../../engine/types.ts';
import type { Logger } from '../../util/log.ts';
import { invalid } from '../../errdefs/index.ts';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly engine: Engine;
  /** Path parameters, percent-decoded. */
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  /** The version from a /v1.N/ path, or the server's maximum. */
  readonly apiVersion: string;
  /** Aborted when the client goes away or the daemon shuts down (the reason
   * says which). Long operations pass it to the engine. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** The raw connection, present when the client asked to upgrade it
   * (`Connection: Upgrade`): attach and exec start take it over; other
   * handlers answer through `res` as usual and the connection then closes. */
  readonly upgrade?: Duplex;
}

export type RouteHandler = (ctx: RequestContext) => Promise<void> | void;

export interface Route {
  readonly method: string;
  /** The pattern without wildcard marks, used as the metrics label. */
  readonly label: string;
  readonly handler: RouteHandler;
  readonly re: RegExp;
  readonly keys: string[];
}

export class Router {
  private readonly routes: Route[] = [];

  /** Routes match in the order added: add fixed paths (/images/json) before
   * the wildcard ones (/images/{name*}/json) that would also match them. */
  add(method: string, pattern: string, handler: RouteHandler): this {
    const keys: string[] = [];
    const source = pattern
      .split('/')
      .map((seg) => {
        const m = /^\{(\w+)(\*?)\}$/.exec(seg);
        if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        keys.push(m[1]!);
        return m[2] ? '(.+)' : '([^/]+)';
      })
      .join('/');
    this.routes.push({ method, label: pattern.replace(/\*\}/g, '}'), handler, re: new RegExp(`^${source}$`), keys });
    return this;
  }

  match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.re.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((k, i) => {
        try {
          params[k] = decodeURIComponent(m[i + 1]!);
        } catch {
          throw invalid(`invalid escape in path: ${path}`);
        }
      });
      return { route, params };
    }
    return undefined;
  }
}
