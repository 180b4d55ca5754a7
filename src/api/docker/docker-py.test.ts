// End to end: docker-py (the Python SDK) against the adapter with a fake
// engine, for what it does differently from the docker CLI: list parameters,
// reading the hijacked socket under its HTTP response, run via logs.
// Skipped where python3 with the docker package is not installed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { setLogSink } from '../../util/log.ts';
import { createFakeEngine } from './fake-engine.ts';
import { startTestServer } from './test-helpers.ts';

setLogSink(() => {});

function hasDockerPy(): boolean {
  try {
    execFileSync('python3', ['-c', 'import docker'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const skip = hasDockerPy() ? false : 'python3 with the docker package is not installed';
const engine = createFakeEngine();
const srv = await startTestServer(engine);
after(() => srv.close());

function python(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const prelude = `import docker, json, os\nc = docker.DockerClient(base_url='unix://' + os.environ['SOCK'])\n`;
  return new Promise((resolve) => {
    execFile('python3', ['-c', prelude + script], { env: { ...process.env, SOCK: srv.socket }, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('docker-py: list, run, exec_run, logs, attach_socket', { skip }, async () => {
  const r = await python(`
print(json.dumps([x.name for x in c.containers.list(all=True)]))
print(json.dumps(c.containers.run('busybox', ['sh', '-c', 'echo a; echo b >&2'], stderr=True, remove=True).decode()))
x = c.containers.get('c1')
res = x.exec_run(['echo', 'x'])
print(json.dumps([res.exit_code, res.output.decode()]))
res = x.exec_run(['sh', '-c', 'echo o; echo e >&2; exit 3'], demux=True)
print(json.dumps([res.exit_code, res.output[0].decode(), res.output[1].decode()]))
print(json.dumps(x.logs(stdout=True, stderr=False).decode()))
s = c.api.attach_socket('c1', params={'stdout': 1, 'stderr': 1, 'stream': 1, 'logs': 1})
s._sock.settimeout(5)
print(json.dumps(list(s._sock.recv(8))))
s.close()
`);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines, [['c1'], 'a\nb\n', [0, 'x\n'], [3, 'o\n', 'e\n'], 'hello from c1\n', [1, 0, 0, 0, 0, 0, 0, 14]]);
  const list = engine.calls.find((c) => c.method === 'containers.list')!;
  assert.deepEqual(list.args, [{ all: true, limit: undefined, size: false, filters: undefined }]);
});
