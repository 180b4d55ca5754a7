import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentialsFrom, parseChallenges, TokenCache, type Token } from './auth.ts';
import { formatRegistryErrors } from './errors.ts';

test('parseChallenges reads Bearer and Basic challenges as registries send them', () => {
  const cases: [string | string[] | undefined, { scheme: string; params: Record<string, string> }[]][] = [
    [undefined, []],
    ['', []],
    ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
      [
        {
          scheme: 'bearer',
          params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
        },
      ],
    ],
    // spaces after commas, unquoted values, an escaped quote, mixed case
    [
      'BEARER Realm=https://r/t, service="a \\"b\\"" , error="insufficient_scope"',
      [{ scheme: 'bearer', params: { realm: 'https://r/t', service: 'a "b"', error: 'insufficient_scope' } }],
    ],
    // two challenges in one header, and as two header lines
    [
      'Basic realm="x", Bearer realm="https://t/token",service="s"',
      [
        { scheme: 'basic', params: { realm: 'x' } },
        { scheme: 'bearer', params: { realm: 'https://t/token', service: 's' } },
      ],
    ],
    [
      ['Basic realm="x"', 'Bearer realm="y"'],
      [
        { scheme: 'basic', params: { realm: 'x' } },
        { scheme: 'bearer', params: { realm: 'y' } },
      ],
    ],
    ['Bearer realm="a,b",scope="repository:x:pull,push"', [{ scheme: 'bearer', params: { realm: 'a,b', scope: 'repository:x:pull,push' } }]],
  ];
  for (const [header, want] of cases) assert.deepEqual(parseChallenges(header), want, JSON.stringify(header));
});

test('credentialsFrom accepts every way the Docker API carries credentials', () => {
  assert.equal(credentialsFrom(undefined), undefined);
  assert.equal(credentialsFrom({}), undefined);
  assert.equal(credentialsFrom({ username: '', password: '' }), undefined);
  assert.deepEqual(credentialsFrom({ username: 'u', password: 'p' }), { username: 'u', password: 'p' });
  assert.deepEqual(credentialsFrom({ auth: Buffer.from('u:p:with:colons').toString('base64') }), { username: 'u', password: 'p:with:colons' });
  assert.deepEqual(credentialsFrom({ identitytoken: 'refresh' }), { identityToken: 'refresh' });
  assert.deepEqual(credentialsFrom({ registrytoken: 'bearer' }), { registryToken: 'bearer' });
  // explicit fields win over the encoded pair
  assert.deepEqual(credentialsFrom({ username: 'a', password: 'b', auth: Buffer.from('c:d').toString('base64') }), { username: 'a', password: 'b' });
});

test('TokenCache reuses a token until it expires and shares concurrent fetches', async () => {
  let now = 1_000_000;
  const cache = new TokenCache(() => now);
  let fetches = 0;
  const fetch = async (): Promise<Token> => {
    fetches++;
    await new Promise((r) => setImmediate(r));
    return { token: `t${fetches}`, expiresAt: now + 60_000 };
  };
  const key = TokenCache.key({ realm: 'https://r/token', service: 's', scopes: ['repository:a:pull'] });
  const [a, b] = await Promise.all([cache.get(key, fetch), cache.get(key, fetch)]);
  assert.equal(a, 't1');
  assert.equal(b, 't1');
  assert.equal(await cache.get(key, fetch), 't1');
  assert.equal(fetches, 1);
  now += 60_001;
  assert.equal(await cache.get(key, fetch), 't2');
  cache.invalidate('t2');
  assert.equal(await cache.get(key, fetch), 't3');
  // scopes in another order are the same key; another user is not
  assert.equal(key, TokenCache.key({ realm: 'https://r/token', service: 's', scopes: ['repository:a:pull'] }));
  assert.notEqual(key, TokenCache.key({ realm: 'https://r/token', service: 's', scopes: ['repository:a:pull'], creds: { username: 'u', password: 'p' } }));
  assert.equal(
    TokenCache.key({ realm: 'r', scopes: ['b', 'a'] }),
    TokenCache.key({ realm: 'r', scopes: ['a', 'b'] }),
  );
});

test('formatRegistryErrors prints error lists the way Docker does', () => {
  const body = (v: unknown) => Buffer.from(JSON.stringify(v));
  assert.equal(
    formatRegistryErrors(body({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'x' } }] })),
    'manifest unknown: manifest unknown',
  );
  assert.equal(
    formatRegistryErrors(body({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }, { code: 'TOOMANYREQUESTS' }] })),
    'denied: requested access to the resource is denied; toomanyrequests',
  );
  assert.equal(formatRegistryErrors(body({ errors: [] })), undefined);
  assert.equal(formatRegistryErrors(Buffer.from('<html>oops</html>')), undefined);
  assert.equal(formatRegistryErrors(body({ message: 'x' })), undefined);
});
