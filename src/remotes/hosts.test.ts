import { test } from 'node:test';
import assert from 'node:assert/strict';
import { is } from '../errdefs/index.ts';
import { hostname, InsecurePolicy, loginDomain, parseMirror, pullEndpoints } from './hosts.ts';

const noDns = async (name: string): Promise<string[]> => {
  throw Object.assign(new Error(`no DNS in tests: ${name}`), { code: 'ENOTFOUND' });
};

test('hostname strips ports and brackets', () => {
  const cases: [string, string][] = [
    ['example.com', 'example.com'],
    ['Example.com:5000', 'example.com'],
    ['127.0.0.1:5000', '127.0.0.1'],
    ['[::1]:5000', '::1'],
    ['[::1]', '::1'],
    ['::1', '::1'],
  ];
  for (const [input, want] of cases) assert.equal(hostname(input), want, input);
});

test('insecure hosts: listed host[:port], CIDRs, and loopback by default', async () => {
  const dns: Record<string, string[]> = { 'reg.lan': ['10.1.2.3'], 'loop.lan': ['127.0.1.1'], 'pub.example': ['93.184.216.34'] };
  const policy = new InsecurePolicy(['myreg:5000', 'plain.example', '10.0.0.0/8', 'fd00::/8'], async (n) => {
    const ips = dns[n];
    if (!ips) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return ips;
  });
  const cases: [string, boolean][] = [
    ['myreg:5000', true],
    ['MyReg:5000', true],
    ['myreg:5001', false],
    ['plain.example', true],
    ['plain.example:443', true],
    ['10.20.30.40:5000', true],
    ['11.0.0.1', false],
    ['reg.lan:5000', true], // resolves into the CIDR
    ['pub.example', false],
    ['unknown.example', false],
    ['[fd00::1]:5000', true],
    ['127.0.0.1:5000', true],
    ['127.255.0.1', true],
    ['localhost:5000', true],
    ['loop.lan', true], // resolves to loopback, as Docker checks
    ['[::1]:5000', true],
    ['quay.io', false],
  ];
  for (const [host, want] of cases) assert.equal(await policy.isInsecure(host), want, host);
  assert.throws(() => new InsecurePolicy(['10.0.0.0/33']), (e) => is(e, 'invalid') && /10\.0\.0\.0\/33/.test((e as Error).message));
  assert.throws(() => new InsecurePolicy(['not-an-ip/8']), (e) => is(e, 'invalid'));
});

test('endpoints: mirrors before the origin for docker.io only; docker.io is registry-1', async () => {
  const policy = new InsecurePolicy([], noDns);
  const mirrors = [parseMirror('http://127.0.0.1:5001'), parseMirror('https://mirror.example/prefix/')];
  const hub = await pullEndpoints('docker.io', mirrors, policy);
  assert.deepEqual(
    hub.map((e) => [e.host, e.prefix, e.schemes.join('+'), e.insecureTls, e.mirror]),
    [
      ['127.0.0.1:5001', '', 'http', false, true],
      ['mirror.example', '/prefix', 'https', false, true],
      ['registry-1.docker.io', '', 'https', false, false],
    ],
  );
  const other = await pullEndpoints('quay.io', mirrors, policy);
  assert.deepEqual(other.map((e) => [e.host, e.schemes.join('+'), e.insecureTls]), [['quay.io', 'https', false]]);
  const local = await pullEndpoints('127.0.0.1:5000', mirrors, policy);
  assert.deepEqual(local.map((e) => [e.host, e.schemes.join('+'), e.insecureTls]), [['127.0.0.1:5000', 'https+http', true]]);
});

test('mirror URLs are checked up front', () => {
  for (const bad of ['127.0.0.1:5001', 'ftp://m.example', 'not a url', 'https://m.example/?x=1']) {
    assert.throws(() => parseMirror(bad), (e) => is(e, 'invalid') && (e as Error).message.includes(JSON.stringify(bad)), bad);
  }
});

test('loginDomain maps server addresses to the registry they name', () => {
  const cases: [string, string][] = [
    ['', 'docker.io'],
    ['https://index.docker.io/v1/', 'docker.io'],
    ['index.docker.io', 'docker.io'],
    ['docker.io', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['http://127.0.0.1:5000/', '127.0.0.1:5000'],
    ['127.0.0.1:5000', '127.0.0.1:5000'],
    ['quay.io/v2/', 'quay.io'],
  ];
  for (const [input, want] of cases) assert.equal(loginDomain(input), want, input);
});
