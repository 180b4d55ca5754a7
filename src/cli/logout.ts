// joey logout: forgets the stored credentials for a registry.
import { INDEX_SERVER, convertToHostname } from '../client/auth.ts';
import type { Cli } from './context.ts';

export async function runLogout(cli: Cli, server: string | undefined): Promise<void> {
  const address = server || INDEX_SERVER;
  const hostname = server ? convertToHostname(server) : INDEX_SERVER;
  // older configs may hold the address in any of these spellings
  const keys = server ? [address, hostname, `http://${hostname}`, `https://${hostname}`] : [address];
  cli.out(`Removing login credentials for ${hostname}\n`);
  const creds = await cli.credentials();
  let changed = false;
  for (const k of keys) changed = creds.erase(k) || changed;
  if (changed) await creds.save();
}
