// `joey ps` for canned containers: docker's columns, truncation, ports and sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerFormat, displayablePorts, listQuery, renderContainers } from './container-list.ts';
import { containerList } from './fake-containers.ts';
import type { ContainerSummary } from '../engine/containers/types.ts';

const now = 1_700_000_000_000;
const list = containerList(now / 1000) as unknown as ContainerSummary[];

test('the default table: truncated ids and commands, familiar images, grouped ports', () => {
  assert.deepEqual(renderContainers(list, containerFormat('', false, false), true, now).split('\n'), [
    'CONTAINER ID   IMAGE          COMMAND                     CREATED          STATUS                      PORTS                                                                                 NAMES',
    'a1a1a1a1a1a1   nginx:1.25     "/docker-entrypoint.…"      3 hours ago      Up 3 hours                  443-444/tcp, 127.0.0.1:53->53/udp, 446/tcp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp   web',
    'b2b2b2b2b2b2   cccccccccccc   "sh"                        40 minutes ago   Exited (3) 10 seconds ago                                                                                         ttyc',
    'd3d3d3d3d3d3   busybox        "echo \\"日本語 \\t tabs\\""   2 weeks ago      Created                     9000-9002/udp                                                                         dig',
    '',
  ]);
});

test('--no-trunc -s: whole ids, every name, the size column', () => {
  const lines = renderContainers(list, containerFormat('table', false, true), false, now).split('\n');
  assert.match(lines[0]!, /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES +SIZE$/);
  assert.match(lines[1]!, /^(a1){32} {3}nginx:1\.25 .*"\/docker-entrypoint\.sh nginx -g 'daemon off;'" .* web,other\/web-link {3}1\.23kB \(virtual 188MB\)$/);
  assert.match(lines[3]!, /busybox@sha256:d{64} .* dig {18}0B$/);
});

test('-q, raw and json formats; Label with an argument', () => {
  assert.equal(renderContainers(list, containerFormat('', true, false), true, now), 'a1a1a1a1a1a1\nb2b2b2b2b2b2\nd3d3d3d3d3d3\n');
  const raw = renderContainers(list.slice(1, 2), containerFormat('raw', false, false), true, now);
  assert.equal(raw, 'container_id: b2b2b2b2b2b2\nimage: cccccccccccc\ncommand: "sh"\ncreated_at: ' + raw.split('created_at: ')[1]!.split('\n')[0] + '\nstate: exited\nstatus: Exited (3) 10 seconds ago\nnames: ttyc\nlabels:\nports:\n\n');
  const json = JSON.parse(renderContainers(list.slice(0, 1), 'json', true, now));
  assert.deepEqual(Object.keys(json), ['Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Platform', 'Ports', 'RunningFor', 'Size', 'State', 'Status']);
  assert.match(renderContainers(list.slice(0, 1), 'json', true, now), /NGINX \\u003cdocker-maint@nginx.com\\u003e/);
  assert.equal(renderContainers(list, '{{.Names}}={{.Label "com.example.tier"}};{{.Mounts}}', true, now), 'web=front;ffffffffffffff…,/srv/www\nttyc=;\ndig=;\n');
});

test('ports: ranges per protocol and address, mappings to other ports last', () => {
  assert.equal(
    displayablePorts([
      { PrivatePort: 8080, Type: 'tcp' },
      { PrivatePort: 8081, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 22, PublicPort: 2222, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 9000, PublicPort: 9000, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 9001, PublicPort: 9001, Type: 'tcp' },
      { PrivatePort: 53, Type: 'udp' },
    ]),
    '53/udp, 8080-8081/tcp, 0.0.0.0:9000-9001->9000-9001/tcp, 0.0.0.0:2222->22/tcp',
  );
});

test('the list query: -n, -l, and sizes asked for when the format shows them', () => {
  assert.deepEqual(listQuery({ latest: true }), { all: undefined, limit: '1', size: undefined, filters: undefined });
  assert.deepEqual(listQuery({ last: 3, latest: true, all: true, filter: ['status=exited'] }), { all: true, limit: '3', size: undefined, filters: { status: ['exited'] } });
  assert.equal(listQuery({ format: 'table {{.Names}}\\t{{.Size}}' }).size, true);
  assert.equal(listQuery({ format: '{{.Size}}', quiet: true }).size, undefined);
  assert.throws(() => listQuery({ format: '{{.Bogus}}' }), { message: 'failed to execute template: template: :1:2: executing "" at <.Bogus>: can\'t evaluate field Bogus in type *formatter.ContainerContext' });
});
