// The X-Registry-Auth header for a reference's registry, from the stored credentials.
import { authFor, encodeAuthHeader } from '../client/auth.ts';
import type { Cli } from './context.ts';
import type { Reference } from '../reference/index.ts';

export async function registryAuthHeader(cli: Cli, ref: Reference): Promise<Record<string, string>> {
  const store = await cli.credentials();
  return { 'X-Registry-Auth': encodeAuthHeader(authFor(store, ref.domain)) };
}
