import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envPrefix, formatLink, linkEnv, linkHostsLine, linksEnv, parseLink, removeLinkHost, splitLinkName, updateLinkHost } from './links.ts';

test('links parse as the CLI gives them and as dockerd shows them', () => {
  assert.deepEqual(parseLink('server:db'), { target: 'server', alias: 'db' });
  assert.deepEqual(parseLink('server'), { target: 'server', alias: 'server' });
  assert.deepEqual(parseLink('/server:/client/db'), { target: 'server', alias: 'db' });
  assert.equal(formatLink('server', 'client', 'db'), '/server:/client/db');
  assert.deepEqual(parseLink(formatLink('a', 'b', 'c')), { target: 'a', alias: 'c' });
  assert.throws(() => parseLink('a:b:c'), /bad format for links: a:b:c/);
  assert.throws(() => parseLink(''), /empty string specified for links/);
  assert.throws(() => parseLink('a:'), /bad format/);
});

test('the hosts line: alias, hostname, then the name unless the alias is the name', () => {
  assert.equal(linkHostsLine('10.0.0.2', 'db', '8f767e2c2b52', 'server'), '10.0.0.2\tdb 8f767e2c2b52 server');
  assert.equal(linkHostsLine('10.0.0.2', 'server', '8f767e2c2b52', 'server'), '10.0.0.2\tserver 8f767e2c2b52');
});

test('a restarted linked container moves its alias line, and only it', () => {
  const hosts = '127.0.0.1\tlocalhost\n10.0.0.3\tdb abc p1\n10.0.0.3\tdbx abc p1\n10.0.0.4\tself\n';
  assert.equal(updateLinkHost(hosts, 'db', '10.0.0.5'), '127.0.0.1\tlocalhost\n10.0.0.5\tdb abc p1\n10.0.0.3\tdbx abc p1\n10.0.0.4\tself\n');
});

test('the variable prefix: upper case, only "-" replaced (as dockerd)', () => {
  assert.equal(envPrefix('my-db.x'), 'MY_DB.X');
  assert.equal(envPrefix('db'), 'DB');
});

test('one link\'s variables, as dockerd 20.10 gave them for the same container', () => {
  const env = linkEnv({
    alias: 'db',
    self: 'cli',
    ip: '10.199.77.2',
    env: ['PATH=/bin', 'FOO=bar', 'SPACE=a b', 'HOSTNAME=x', 'EMPTY=', 'HOME=/root', 'NOVALUE'],
    exposedPorts: { '80/tcp': {}, '53/udp': {}, '8080/tcp': {} },
  });
  assert.deepEqual(env, [
    'DB_PORT=udp://10.199.77.2:53',
    'DB_PORT_53_UDP=udp://10.199.77.2:53',
    'DB_PORT_53_UDP_ADDR=10.199.77.2',
    'DB_PORT_53_UDP_PORT=53',
    'DB_PORT_53_UDP_PROTO=udp',
    'DB_PORT_80_TCP=tcp://10.199.77.2:80',
    'DB_PORT_80_TCP_ADDR=10.199.77.2',
    'DB_PORT_80_TCP_PORT=80',
    'DB_PORT_80_TCP_PROTO=tcp',
    'DB_PORT_8080_TCP=tcp://10.199.77.2:8080',
    'DB_PORT_8080_TCP_ADDR=10.199.77.2',
    'DB_PORT_8080_TCP_PORT=8080',
    'DB_PORT_8080_TCP_PROTO=tcp',
    'DB_NAME=/cli/db',
    'DB_ENV_FOO=bar',
    'DB_ENV_SPACE=a b',
    'DB_ENV_HOSTNAME=x',
    'DB_ENV_EMPTY=',
  ]);
});

test('runs of consecutive ports, as dockerd 20.10 gave them (protocols mixed in a run)', () => {
  const ip = '10.199.77.3';
  const env = linkEnv({ alias: 'r', self: 'c', ip, env: [], exposedPorts: Object.fromEntries(['8000/tcp', '8001/tcp', '8002/tcp', '8001/udp', '7000/tcp', '7000/udp', '7001/udp'].map((p) => [p, {}])) });
  assert.deepEqual(env, [
    `R_PORT=tcp://${ip}:7000`,
    `R_PORT_7000_TCP_START=tcp://${ip}:7000`,
    `R_PORT_7000_TCP_ADDR=${ip}`,
    'R_PORT_7000_TCP_PROTO=tcp',
    'R_PORT_7000_TCP_PORT_START=7000',
    `R_PORT_7000_UDP_END=udp://${ip}:7001`,
    'R_PORT_7000_UDP_PORT_END=7001',
    `R_PORT_8000_TCP_START=tcp://${ip}:8000`,
    `R_PORT_8000_TCP_ADDR=${ip}`,
    'R_PORT_8000_TCP_PROTO=tcp',
    'R_PORT_8000_TCP_PORT_START=8000',
    `R_PORT_8000_TCP_END=tcp://${ip}:8002`,
    'R_PORT_8000_TCP_PORT_END=8002',
    `R_PORT_7000_TCP=tcp://${ip}:7000`,
    'R_PORT_7000_TCP_PORT=7000',
    `R_PORT_7000_UDP=udp://${ip}:7000`,
    `R_PORT_7000_UDP_ADDR=${ip}`,
    'R_PORT_7000_UDP_PORT=7000',
    'R_PORT_7000_UDP_PROTO=udp',
    `R_PORT_7001_UDP=udp://${ip}:7001`,
    `R_PORT_7001_UDP_ADDR=${ip}`,
    'R_PORT_7001_UDP_PORT=7001',
    'R_PORT_7001_UDP_PROTO=udp',
    `R_PORT_8000_TCP=tcp://${ip}:8000`,
    'R_PORT_8000_TCP_PORT=8000',
    `R_PORT_8001_TCP=tcp://${ip}:8001`,
    `R_PORT_8001_TCP_ADDR=${ip}`,
    'R_PORT_8001_TCP_PORT=8001',
    'R_PORT_8001_TCP_PROTO=tcp',
    `R_PORT_8001_UDP=udp://${ip}:8001`,
    `R_PORT_8001_UDP_ADDR=${ip}`,
    'R_PORT_8001_UDP_PORT=8001',
    'R_PORT_8001_UDP_PROTO=udp',
    `R_PORT_8002_TCP=tcp://${ip}:8002`,
    `R_PORT_8002_TCP_ADDR=${ip}`,
    'R_PORT_8002_TCP_PORT=8002',
    'R_PORT_8002_TCP_PROTO=tcp',
    'R_NAME=/c/r',
  ]);
});

test('no exposed port: only the name and the env; several links add up', () => {
  const a = { alias: 'a', self: 'c', ip: '10.0.0.2', env: ['X=1'], exposedPorts: null };
  const b = { alias: 'b-2', self: 'c', ip: '10.0.0.3', env: [], exposedPorts: { '6379': {} } };
  assert.deepEqual(linksEnv([a, b]), ['A_NAME=/c/a', 'A_ENV_X=1', 'B_2_PORT=tcp://10.0.0.3:6379', 'B_2_PORT_6379_TCP=tcp://10.0.0.3:6379', 'B_2_PORT_6379_TCP_ADDR=10.0.0.3', 'B_2_PORT_6379_TCP_PORT=6379', 'B_2_PORT_6379_TCP_PROTO=tcp', 'B_2_NAME=/c/b-2']);
});

test('rm --link: the name splits into the linking container and the alias; its hosts line goes', () => {
  assert.deepEqual(splitLinkName('/client/db'), { parent: 'client', alias: 'db' });
  assert.deepEqual(splitLinkName('client/db'), { parent: 'client', alias: 'db' });
  assert.equal(splitLinkName('/client'), undefined, 'a container\'s own name');
  assert.equal(splitLinkName('client'), undefined);
  const hosts = '127.0.0.1\tlocalhost\n10.0.0.2\tdb 3cda9898f309 server\n10.0.0.2\tserver 3cda9898f309\n10.0.0.3\tce97e937abb3\n';
  assert.equal(removeLinkHost(hosts, 'db'), '127.0.0.1\tlocalhost\n10.0.0.2\tserver 3cda9898f309\n10.0.0.3\tce97e937abb3\n');
  assert.equal(removeLinkHost(hosts, '3cda9898f309'), hosts, 'only a line that the alias starts');
});
