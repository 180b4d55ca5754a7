// A private registry for integration tests: Debian's docker-registry
// (distribution 2.8) on 127.0.0.1 with its storage in a temp dir, optionally
// behind htpasswd or token auth.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { LogBuffer, freePort, makeTempDir, removeDir, run, terminate, waitWhileRunning } from './proc.ts';
import { startTokenServer, type TokenServer, type User } from './token-server.ts';

export type { User } from './token-server.ts';

export type RegistryAuth = 'none' | 'htpasswd' | 'token';

export interface RegistryOptions {
  auth?: RegistryAuth;
  /** Default: a free port. */
  port?: number;
  /** Default for auth kinds: one user with a random password. */
  users?: User[];
}

export interface Registry {
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT, the host part of image references. */
  host: string;
  port: number;
  auth: RegistryAuth;
  /** The temp dir holding config, storage and auth files. */
  dir: string;
  /** Users that may log in (auth kinds only). */
  users?: User[];
  /** The token server (auth 'token' only). */
  token?: TokenServer;
  /** The registry's own output, for diagnostics. */
  log(): string;
  stop(): Promise<void>;
}

export const REGISTRY_BIN = 'docker-registry';

/** Starts a registry and waits until GET /v2/ answers. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<Registry> {
  const auth = opts.auth ?? 'none';
  const dir = await makeTempDir('joey-it-registry-');
  const users = auth === 'none' ? undefined : opts.users ?? [{ username: 'joey', password: randomBytes(9).toString('base64url') }];
  let token: TokenServer | undefined;
  try {
    let authConfig: object | undefined;
    if (auth === 'htpasswd') {
      const file = join(dir, 'htpasswd');
      await writeFile(file, (await Promise.all(users!.map((u) => htpasswdLine(u)))).join(''));
      authConfig = { htpasswd: { realm: 'joey-test-registry', path: file } };
    } else if (auth === 'token') {
      token = await startTokenServer(dir, users!);
      authConfig = { token: { realm: token.realm, service: token.service, issuer: token.issuer, rootcertbundle: token.certFile } };
    }
    // A fixed port may be taken between discovery and listen: retry a few times with a new one.
    for (let attempt = 0; ; attempt++) {
      const port = opts.port ?? (await freePort());
      const started = await launch(dir, port, authConfig);
      if ('child' in started) {
        const { child, log } = started;
        const tokenServer = token;
        return {
          url: `http://127.0.0.1:${port}`,
          host: `127.0.0.1:${port}`,
          port,
          auth,
          dir,
          ...(users ? { users } : {}),
          ...(tokenServer ? { token: tokenServer } : {}),
          log: () => log.text(),
          stop: async () => {
            await terminate(child, 5000);
            await tokenServer?.stop();
            await removeDir(dir);
          },
        };
      }
      if (opts.port !== undefined || attempt >= 3 || !/address already in use/.test(started.error)) {
        throw new Error(`docker-registry did not start:\n${started.error}`);
      }
    }
  } catch (e) {
    await token?.stop();
    await removeDir(dir);
    throw e;
  }
}

async function launch(dir: string, port: number, authConfig: object | undefined): Promise<{ child: ChildProcess; log: LogBuffer } | { error: string }> {
  // JSON is YAML, so the config needs no YAML writer.
  const config = {
    version: 0.1,
    log: { level: 'warn', formatter: 'text', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: join(dir, 'storage') },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex') },
    ...(authConfig ? { auth: authConfig } : {}),
  };
  const configFile = join(dir, 'config.yml');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const log = new LogBuffer();
  const child = spawn(REGISTRY_BIN, ['serve', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (b: Buffer) => log.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => log.push(b.toString()));
  child.on('error', (e) => log.push(`spawn ${REGISTRY_BIN}: ${e.message}\n`));
  try {
    await waitWhileRunning(child, 'the registry to answer GET /v2/', async () => (await httpStatus(`http://127.0.0.1:${port}/v2/`)) > 0, 15_000);
    return { child, log };
  } catch (e) {
    await terminate(child, 1000);
    return { error: `${String(e)}\n${log.tail()}` };
  }
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * One htpasswd line with a bcrypt hash, which is the only kind distribution
 * accepts. Debian 12's python3 has the `crypt` module over libxcrypt, which does
 * bcrypt; `htpasswd -B` (apache2-utils) is the fallback where that is missing.
 */
export async function htpasswdLine(user: User): Promise<string> {
  const py = await run('python3', ['-W', 'ignore', '-c',
    'import crypt,sys; print(crypt.crypt(sys.stdin.read(), crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))'],
  { input: user.password }).catch(() => undefined);
  const hash = py?.stdout.trim();
  if (py?.code === 0 && hash?.startsWith('$2')) return `${user.username}:${hash}\n`;
  const ap = await run('htpasswd', ['-nbBC', '5', user.username, user.password]).catch(() => undefined);
  if (ap?.code === 0 && ap.stdout.includes(':$2')) return `${ap.stdout.trim()}\n`;
  throw new Error('no bcrypt for htpasswd: need python3 with the crypt module (Debian 12) or htpasswd from apache2-utils');
}
