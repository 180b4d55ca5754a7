// The tcp:// + TLS path against a real https server with a throwaway cert.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ApiClient, ConnectionError } from './client.ts';

const OPENSSL = '/usr/bin/openssl';

test('TLS: verified against the given CA, refused without it, allowed unverified', { skip: !existsSync(OPENSSL) && 'openssl not installed' }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'joey-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(OPENSSL, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });

  const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    res.setHeader('Api-Version', '1.47');
    res.setHeader('Content-Type', 'application/json');
    res.end(req.url === '/_ping' ? 'OK' : JSON.stringify({ url: req.url }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const host = `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const verified = new ApiClient({ host, tls: { verify: true, ca: readFileSync(cert) } });
  assert.deepEqual(await verified.get('/info'), { url: '/v1.47/info' });
  verified.close();

  const noCa = new ApiClient({ host, tls: { verify: true } });
  await assert.rejects(noCa.get('/info'), (err: unknown) => err instanceof ConnectionError && /error during connect/.test(err.message));
  noCa.close();

  const unverified = new ApiClient({ host, tls: { verify: false } });
  assert.deepEqual(await unverified.get('/info'), { url: '/v1.47/info' });
  unverified.close();

  const plain = new ApiClient({ host });
  await assert.rejects(plain.get('/info'), ConnectionError);
  plain.close();
});
