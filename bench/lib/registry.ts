// A private registry on loopback (Debian's `docker-registry serve`) with its
// storage in a temporary directory, and pushing OCI layouts into it with
// skopeo.
import { createServer } from 'node:net';
import { request } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOk, startDaemon, stopDaemon, waitUntil, type Daemon } from './proc.ts';
import { removeTree, withTmpfsOver } from './fsutil.ts';

export interface Registry {
  /** host:port */
  host: string;
  dir: string;
  daemon: Daemon;
  stop(): Promise<void>;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** HTTP status of GET url, or 0 when nothing answers. */
export function httpStatus(opts: { host?: string; port?: number; socketPath?: string; path: string }): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ ...opts, method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

export async function startRegistry(dir: string): Promise<Registry> {
  await mkdir(join(dir, 'storage'), { recursive: true });
  const port = await freePort();
  const config = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    '  cache:',
    '    blobdescriptor: inmemory',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '',
  ].join('\n');
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, config);
  const daemon = startDaemon(['docker-registry', 'serve', configPath], join(dir, 'registry.log'));
  await waitUntil(
    'docker-registry',
    async () => (await httpStatus({ host: '127.0.0.1', port, path: '/v2/' })) === 200,
    30,
    daemon,
  );
  return {
    host: `127.0.0.1:${port}`,
    dir,
    daemon,
    stop: async () => {
      await stopDaemon(daemon);
      await removeTree(dir);
    },
  };
}

/**
 * Pushes an OCI layout to the registry as a Docker schema-2 image.
 *
 * skopeo (containers/image) keeps a blob-info cache in
 * /var/lib/containers/cache when it runs as root, with no flag to move it; it
 * runs here in a private mount namespace with a tmpfs over /var/lib, so that
 * nothing on the host is touched.
 */
/** Pushes an OCI layout's image. `format` 'v2s2' converts it to Docker
 * schema 2 (gzip layers only); 'oci' keeps its media types (zstd too). */
export async function pushLayout(layoutDir: string, tag: string, dest: string, workDir: string, format: 'v2s2' | 'oci' = 'v2s2'): Promise<void> {
  const policy = join(workDir, 'policy.json');
  await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  await runOk(
    withTmpfsOver(
      ['/var/lib'],
      [
        'skopeo',
        '--policy',
        policy,
        'copy',
        '--quiet',
        '--dest-tls-verify=false',
        '--format',
        format,
        `oci:${layoutDir}:${tag}`,
        `docker://${dest}`,
      ],
    ),
    { timeoutSeconds: 900, env: { ...process.env, TMPDIR: workDir } },
  );
}
