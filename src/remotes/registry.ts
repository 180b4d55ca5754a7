// The registry client's entry point: shared connections, tokens and host
// decisions, and the choice of hosts for each repository and login.
import type { Reference } from '../reference/types.ts';
import { Authorizer, credentialsFrom, TokenCache } from './auth.ts';
import { DOCKER_HUB_HOST, InsecurePolicy, loginDomain, originEndpoint, parseMirror, pullEndpoints } from './hosts.ts';
import { HttpTransport } from './http.ts';
import { loginOn } from './login.ts';
import { RegistryRepository } from './repository.ts';
import type { ClientContext } from './session.ts';
import type { AuthConfig, Registry, RegistryOptions, Repository } from './types.ts';

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_USER_AGENT = 'joey/0.1.0';

/** Seams for tests: where "docker.io" lives, and name resolution. */
export interface RegistryInternals {
  dockerHubHost?: string;
  resolveHost?: (name: string) => Promise<string[]>;
  now?: () => number;
}

export interface RemoteRegistry extends Registry {
  /** Closes idle connections. */
  close(): void;
}

export function createRegistry(opts: RegistryOptions, internals: RegistryInternals = {}): RemoteRegistry {
  const policy = new InsecurePolicy(opts.insecureRegistries, internals.resolveHost);
  const mirrors = opts.mirrors.map(parseMirror);
  const hubHost = internals.dockerHubHost ?? DOCKER_HUB_HOST;
  const http = new HttpTransport(opts.userAgent ?? DEFAULT_USER_AGENT, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const insecureTls = (host: string) => policy.isInsecure(host);
  const ctx: ClientContext = {
    http,
    auth: new Authorizer(http, new TokenCache(internals.now), insecureTls),
    schemes: new Map(),
  };

  return {
    repository(ref: Reference, auth?: AuthConfig): Repository {
      return new RegistryRepository(ref, ctx, credentialsFrom(auth), async () => {
        const pull = await pullEndpoints(ref.domain, mirrors, policy, hubHost);
        return { pull, origin: pull[pull.length - 1]! };
      });
    },
    async login(serverAddress: string, auth: AuthConfig) {
      const endpoint = await originEndpoint(loginDomain(serverAddress || auth.serveraddress || ''), policy, hubHost);
      return loginOn(ctx, endpoint, credentialsFrom(auth), insecureTls);
    },
    close() {
      http.close();
    },
  };
}
