export type { AuthConfig, Descriptor, Platform, Registry, RegistryOptions, Repository } from './types.ts';
export { createRegistry, type RegistryInternals, type RemoteRegistry } from './registry.ts';
export { MANIFEST_ACCEPT, MANIFEST_LIMIT, MEDIA_TYPES, digestOf, verifyDigest } from './manifest.ts';
export { formatRegistryErrors } from './errors.ts';
