// Registry credentials kept in ~/.joey/config.json, in the docker config.json
// format, and the X-Registry-Auth header built from them.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuthConfig } from '../remotes/types.ts';

/** The key docker uses for Docker Hub credentials. */
export const INDEX_SERVER = 'https://index.docker.io/v1/';
export const CONFIG_FILE = 'config.json';

/** The config directory: `--config`, then JOEY_CONFIG, then ~/.joey. */
export function configDir(opts: { flag?: string; env: Record<string, string | undefined> }): string {
  if (opts.flag) return opts.flag;
  if (opts.env.JOEY_CONFIG) return opts.env.JOEY_CONFIG;
  const home = opts.env.HOME || os.homedir();
  return path.join(home, '.joey');
}

/** "https://host:5000/v2/" → "host:5000", as docker's ConvertToHostname. */
export function convertToHostname(maybeUrl: string): string {
  if (maybeUrl.includes('://')) {
    try {
      const u = new URL(maybeUrl);
      if (u.host) return u.host;
    } catch {
      // fall through to the plain form
    }
  }
  return maybeUrl.split('/')[0]!;
}

/** The config key for a registry domain: Docker Hub has its legacy URL. */
export function registryKey(domain: string): string {
  return domain === 'docker.io' || domain === 'index.docker.io' || domain === 'registry-1.docker.io'
    ? INDEX_SERVER
    : domain;
}

/** X-Registry-Auth: the JSON AuthConfig in URL-safe base64 with padding,
 * as docker's base64.URLEncoding writes it ("{}" is "e30="). */
export function encodeAuthHeader(auth: AuthConfig): string {
  return Buffer.from(JSON.stringify(auth)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export function decodeAuthHeader(header: string): AuthConfig {
  return JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as AuthConfig;
}

interface StoredAuth {
  auth?: string;
  identitytoken?: string;
  registrytoken?: string;
  [k: string]: unknown;
}

interface ConfigFileShape {
  auths?: Record<string, StoredAuth>;
  [k: string]: unknown;
}

/** The credentials part of config.json; other keys are kept as found. */
export class CredentialStore {
  readonly file: string;
  private data: ConfigFileShape = {};

  private constructor(file: string) {
    this.file = file;
  }

  static async open(dir: string): Promise<CredentialStore> {
    const store = new CredentialStore(path.join(dir, CONFIG_FILE));
    let text: string | undefined;
    try {
      text = await fs.readFile(store.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text && text.trim()) {
      try {
        store.data = JSON.parse(text) as ConfigFileShape;
      } catch (err) {
        throw new Error(`loading config file: ${store.file}: ${(err as Error).message}`);
      }
    }
    return store;
  }

  /** Stored credentials for a key; legacy "https://host/v1/" keys match by hostname. */
  get(key: string): AuthConfig | undefined {
    const auths = this.data.auths ?? {};
    let entry = auths[key];
    let found = key;
    if (!entry) {
      for (const [k, v] of Object.entries(auths)) {
        if (convertToHostname(k) === key) {
          entry = v;
          found = k;
          break;
        }
      }
    }
    if (!entry) return undefined;
    const out: AuthConfig = { serveraddress: found };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) {
        out.username = decoded.slice(0, i);
        out.password = decoded.slice(i + 1).replace(/\0+$/, '');
      }
    }
    if (entry.identitytoken) out.identitytoken = entry.identitytoken;
    if (entry.registrytoken) out.registrytoken = entry.registrytoken;
    return out;
  }

  set(key: string, auth: AuthConfig): void {
    const entry: StoredAuth = {};
    if (auth.username || auth.password) {
      entry.auth = Buffer.from(`${auth.username ?? ''}:${auth.password ?? ''}`).toString('base64');
    }
    if (auth.identitytoken) entry.identitytoken = auth.identitytoken;
    (this.data.auths ??= {})[key] = entry;
  }

  /** Removes a key; false when there was nothing to remove. */
  erase(key: string): boolean {
    const auths = this.data.auths;
    if (!auths || !(key in auths)) return false;
    delete auths[key];
    return true;
  }

  keys(): string[] {
    return Object.keys(this.data.auths ?? {});
  }

  /** Writes the file atomically, readable by its owner only. */
  async save(): Promise<void> {
    const dir = path.dirname(this.file);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    if (!this.data.auths) this.data.auths = {};
    const tmp = `${this.file}.tmp-${process.pid}-${Date.now()}`;
    try {
      await fs.writeFile(tmp, JSON.stringify(this.data, null, '\t'), { mode: 0o600 });
      await fs.chmod(tmp, 0o600); // the umask may have narrowed it; make it exact
      await fs.rename(tmp, this.file);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
  }
}

/** Credentials to send for a registry domain, or an empty AuthConfig. */
export function authFor(store: CredentialStore, domain: string): AuthConfig {
  const key = registryKey(domain);
  const auth = store.get(key);
  if (!auth) return {};
  // the daemon wants the address of the registry it talks to
  return { ...auth, serveraddress: key };
}
