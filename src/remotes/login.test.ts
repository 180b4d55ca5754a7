import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { JoeyError } from '../errdefs/index.ts';
import { FakeRegistry, type FakeOptions } from './fake-registry.ts';
import { createRegistry, type RemoteRegistry } from './registry.ts';

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function fake(opts: FakeOptions = {}): Promise<FakeRegistry> {
  const f = await FakeRegistry.start(opts);
  cleanups.push(() => f.close());
  return f;
}

function client(): RemoteRegistry {
  const r = createRegistry({ insecureRegistries: [], mirrors: [], timeoutMs: 3000 });
  cleanups.push(() => r.close());
  return r;
}

function rejectsWith(kind: JoeyError['kind'], pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof JoeyError, `not a JoeyError: ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    assert.match(err.message, pattern);
    return true;
  };
}

test('login with a token service returns an identity token that logs in again', async () => {
  const f = await fake({ auth: { kind: 'bearer', users: { alice: 'pw' } } });
  const r = client();
  const { identityToken } = await r.login(`http://${f.host}/`, { username: 'alice', password: 'pw' });
  assert.ok(identityToken?.startsWith('refresh-'));
  const q = new URL(f.tokenRequests[0]!.url, f.url).searchParams;
  assert.equal(q.get('offline_token'), 'true');
  assert.equal(q.get('client_id'), 'joey');
  assert.equal(q.get('service'), 'fake-registry');
  // the token was checked against /v2/
  assert.ok(f.seen('GET', '/v2/').some((s) => s.headers.authorization?.startsWith('Bearer ')));

  // the token service may rotate the refresh token; either way one comes back
  assert.ok((await client().login(f.host, { identitytoken: identityToken })).identityToken);
  assert.equal(f.tokenRequests.at(-1)!.method, 'POST');

  await assert.rejects(
    client().login(f.host, { username: 'alice', password: 'nope' }),
    rejectsWith('unauthorized', new RegExp(`^login attempt to http://${f.host}/v2/ failed with status: 401 Unauthorized`)),
  );
  await assert.rejects(client().login(f.host, { identitytoken: 'refresh-forged' }), rejectsWith('unauthorized', /login attempt .* failed with status: 401/));
});

test('login with basic auth', async () => {
  const f = await fake({ auth: { kind: 'basic', users: { bob: 'pw' } } });
  assert.deepEqual(await client().login(f.host, { auth: Buffer.from('bob:pw').toString('base64') }), {});
  await assert.rejects(
    client().login(f.host, { username: 'bob', password: 'bad' }),
    rejectsWith('unauthorized', new RegExp(`^login attempt to http://${f.host}/v2/ failed with status: 401 Unauthorized`)),
  );
});

test('login to an open registry succeeds; no credentials is invalid', async () => {
  const f = await fake();
  assert.deepEqual(await client().login(f.host, { username: 'any', password: 'thing' }), {});
  await assert.rejects(client().login(f.host, {}), rejectsWith('invalid', /needs a username and password/));
});
