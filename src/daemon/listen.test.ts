import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestListener } from 'node:http';
import { is } from '../errdefs/index.ts';
import { requestUnix } from '../api/docker/test-helpers.ts';
import { parseHost } from './config.ts';
import { listen, lookupGroup, probeUnixSocket } from './listen.ts';

const dir = mkdtempSync(join(tmpdir(), 'joey-listen-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ok: RequestListener = (_req, res) => res.end('OK');

test('a unix socket is 0660, owned by the group, and removed on close', async () => {
  const gid = process.getgid!();
  const groupFile = join(dir, 'group');
  writeFileSync(groupFile, `root:x:0:\nwheel:x:10:\njoeytest:x:${gid}:alice\n`);
  const path = join(dir, 'sub', 'api.sock');
  const l = await listen(parseHost(`unix://${path}`), ok, { group: 'joeytest', groupExplicit: true, groupFile });
  const st = statSync(path);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o660);
  assert.equal(st.gid, gid);
  // The parent directory was created world-traversable.
  assert.equal(statSync(join(dir, 'sub')).mode & 0o777, 0o755);
  assert.equal((await requestUnix(path, 'GET', '/')).body, 'OK');
  await l.close();
  assert.equal(existsSync(path), false);
});

test('lookupGroup reads /etc/group lines and numeric gids', () => {
  const groupFile = join(dir, 'group2');
  writeFileSync(groupFile, 'root:x:0:\njoey:x:998:bob,carol\nbroken\n');
  assert.equal(lookupGroup('joey', groupFile), 998);
  assert.equal(lookupGroup('root', groupFile), 0);
  assert.equal(lookupGroup('nobody-here', groupFile), undefined);
  assert.equal(lookupGroup('1234', groupFile), 1234);
  assert.equal(lookupGroup('joey', join(dir, 'no-such-file')), undefined);
});

test('a named group that does not exist is an error; the default one is optional', async () => {
  const groupFile = join(dir, 'group3');
  writeFileSync(groupFile, 'root:x:0:\n');
  const path = join(dir, 'g.sock');
  await assert.rejects(listen(parseHost(`unix://${path}`), ok, { group: 'nogroup-x', groupExplicit: true, groupFile }), /group nogroup-x not found/);
  const l = await listen(parseHost(`unix://${path}`), ok, { group: 'joey', groupExplicit: false, groupFile });
  await l.close();
});

test('a stale socket file is replaced; a live one refuses the start; a non-socket is left alone', async () => {
  const path = join(dir, 'stale.sock');
  // A daemon that died without cleaning up: kill -9 leaves the file behind.
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`]);
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  assert.equal(await probeUnixSocket(path), 'alive');
  await assert.rejects(listen(parseHost(`unix://${path}`), ok), (err: unknown) => is(err, 'conflict') && /another daemon is already listening on/.test((err as Error).message));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(existsSync(path), true);
  assert.equal(await probeUnixSocket(path), 'stale');
  const l = await listen(parseHost(`unix://${path}`), ok);
  assert.equal((await requestUnix(path, 'GET', '/')).body, 'OK');
  await l.close();

  const plain = join(dir, 'plain-file');
  writeFileSync(plain, 'data');
  await assert.rejects(listen(parseHost(`unix://${plain}`), ok), /exists and is not a socket/);
  assert.equal(readFileSync(plain, 'utf8'), 'data');
});

test('tcp is refused without TLS', async () => {
  await assert.rejects(listen(parseHost('tcp://127.0.0.1:0'), ok), /^.*binding to tcp without TLS is insecure, use --tlsverify$/);
});

test('tcp with --tlsverify admits only clients with a certificate from the CA', async () => {
  const t = join(dir, 'tls');
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  execFileSync('mkdir', ['-p', t]);
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=joey-test-ca', '-keyout', `${t}/ca-key.pem`, '-out', `${t}/ca.pem`);
  writeFileSync(`${t}/san.cnf`, 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  for (const who of ['server', 'client']) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${who}`, '-keyout', `${t}/${who}-key.pem`, '-out', `${t}/${who}.csr`);
    ssl('x509', '-req', '-in', `${t}/${who}.csr`, '-CA', `${t}/ca.pem`, '-CAkey', `${t}/ca-key.pem`, '-CAcreateserial', '-days', '1', '-extfile', `${t}/san.cnf`, '-out', `${t}/${who}.pem`);
  }
  const tls = { verify: true, cert: `${t}/server.pem`, key: `${t}/server-key.pem`, cacert: `${t}/ca.pem` };
  const l = await listen(parseHost('tcp://127.0.0.1:0'), ok, { tls });
  const port = (l.server.address() as { port: number }).port;
  const get = (withCert: boolean) =>
    new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/',
          ca: readFileSync(`${t}/ca.pem`),
          ...(withCert ? { cert: readFileSync(`${t}/client.pem`), key: readFileSync(`${t}/client-key.pem`) } : {}),
        },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve(body));
        },
      );
      req.on('error', reject);
      req.end();
    });
  assert.equal(await get(true), 'OK');
  await assert.rejects(get(false));
  await l.close();
});
