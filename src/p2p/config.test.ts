import assert from 'node:assert/strict';
import { test } from 'node:test';
import { is } from '../errdefs/index.ts';
import { parseP2PSettings } from './config.ts';

const secret = 'sixteen-chars-or-more';
const fails = (s: Parameters<typeof parseP2PSettings>[0], re: RegExp) =>
  assert.throws(() => parseP2PSettings(s), (e: unknown) => is(e, 'invalid') && re.test((e as Error).message));

test('p2p off without settings; on with a secret', () => {
  assert.equal(parseP2PSettings({}), undefined);
  assert.deepEqual(parseP2PSettings({ listen: '127.0.0.1:7070', tracker: 'http://127.0.0.1:7071/', secret }), {
    listen: { host: '127.0.0.1', port: 7070 },
    advertise: 'http://127.0.0.1:7070',
    tracker: 'http://127.0.0.1:7071',
    secret,
  });
  assert.deepEqual(parseP2PSettings({ trackerListen: '[::1]:7071', secret }), { trackerListen: { host: '::1', port: 7071 }, secret });
});

test('bad values name the flag', () => {
  fails({ listen: '127.0.0.1:7070', tracker: 'http://t:1' }, /--p2p-secret/);
  fails({ listen: '127.0.0.1:7070', tracker: 'http://t:1', secret: 'short' }, /--p2p-secret is too short/);
  fails({ secret }, /--p2p-secret is set but p2p is off/);
  fails({ listen: 'localhost', tracker: 'http://t:1', secret }, /--p2p-listen/);
  fails({ listen: '127.0.0.1:99999', tracker: 'http://t:1', secret }, /--p2p-listen.*port/);
  fails({ trackerListen: 'x:y', secret }, /--p2p-tracker-listen/);
  fails({ tracker: 'ftp://t:1', secret }, /--p2p-tracker.*http or https/);
  fails({ tracker: 'not a url', secret }, /--p2p-tracker/);
  fails({ tracker: 'http://u:p@t:1', secret }, /--p2p-tracker.*credentials/);
  fails({ listen: '0.0.0.0:7070', tracker: 'http://t:1', secret }, /--p2p-advertise/);
  fails({ listen: '127.0.0.1:7070', secret }, /--p2p-listen needs --p2p-tracker/);
});
