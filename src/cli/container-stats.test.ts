// `joey stats` numbers from canned stats JSON, printed as docker prints them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderStats, statsEntry } from './container-stats.ts';
import { TTY_ID, WEB_ID, statsSample } from './fake-containers.ts';

const entries = [statsEntry('web', statsSample('web', WEB_ID)), statsEntry('ttyc', statsSample('ttyc', TTY_ID))];

test('the --no-stream table: CPU from the deltas, memory without the page cache', () => {
  assert.equal(
    renderStats(entries, 'table', 'linux', true),
    [
      'CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O     BLOCK I/O        PIDS',
      'a1a1a1a1a1a1   web       40.00%    48MiB / 2GiB        2.34%     1MB / 2MB   4.1MB / 12.3kB   5',
      'b2b2b2b2b2b2   ttyc      40.00%    48MiB / 2GiB        2.34%     1MB / 2MB   4.1MB / 12.3kB   5',
      '',
    ].join('\n'),
  );
});

test('a container without numbers shows dashes; json and custom formats', () => {
  const invalid = { ...statsEntry('gone', {}), IsInvalid: true };
  assert.equal(renderStats([invalid], '{{.Container}} {{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}', 'linux', true), 'gone -- -- -- / -- --\n');
  assert.equal(
    renderStats(entries.slice(0, 1), 'json', 'linux', true),
    '{"BlockIO":"4.1MB / 12.3kB","CPUPerc":"40.00%","Container":"web","ID":"a1a1a1a1a1a1","MemPerc":"2.34%","MemUsage":"48MiB / 2GiB","Name":"web","NetIO":"1MB / 2MB","PIDs":"5"}\n',
  );
  // cgroup v2: no total_inactive_file, inactive_file instead; no online_cpus: the per-cpu list counts
  const v2 = statsEntry('x', {
    cpu_stats: { cpu_usage: { total_usage: 300, percpu_usage: [1, 2] }, system_cpu_usage: 1000 },
    precpu_stats: { cpu_usage: { total_usage: 100 }, system_cpu_usage: 500 },
    memory_stats: { usage: 1000, limit: 4000, stats: { inactive_file: 200 } },
  });
  assert.equal(v2.CPUPercentage, 80);
  assert.equal(v2.Memory, 800);
  assert.equal(v2.MemoryPercentage, 20);
});
