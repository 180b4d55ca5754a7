// Which of a build's credentials (X-Registry-Config: registry → AuthConfig)
// a base image's pull uses, as dockerd's registry.ResolveAuthConfig picks
// them: the key for Docker Hub is "https://index.docker.io/v1/" (or a
// spelling of docker.io), others match by host[:port] once a scheme and path
// are taken off ("http://127.0.0.1:5000/v2/" matches 127.0.0.1:5000).
import type { AuthConfig } from '../../images/types.ts';
import { DEFAULT_DOMAIN, parseReference } from '../../reference/index.ts';

const HUB_NAMES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** "https://host:port/path" → "host:port". */
export function registryHostOf(key: string): string {
  return key.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('/')[0]!.toLowerCase();
}

export function authForImage(configs: Record<string, AuthConfig> | undefined, image: string): AuthConfig | undefined {
  if (!configs) return undefined;
  const domain = parseReference(image).domain.toLowerCase();
  const isHub = domain === DEFAULT_DOMAIN;
  // An exact key first, as dockerd looks it up before normalizing.
  const exact = isHub ? configs['https://index.docker.io/v1/'] : configs[domain];
  if (exact) return exact;
  for (const [key, auth] of Object.entries(configs)) {
    const host = registryHostOf(key);
    if (isHub ? HUB_NAMES.has(host) : host === domain) return auth;
  }
  return undefined;
}
