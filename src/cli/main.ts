// The `joey` entry point, bundled into dist/joey.cjs, which bin/joey loads
// (CommonJS, without top-level await: V8's code cache needs a classic script).
import { runCli } from './program.ts';

// `joey images | head -1`: a closed pipe ends the output, not the process with a trace
function guarded(s: NodeJS.WriteStream): NodeJS.WriteStream {
  s.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  return s;
}

// What --sig-proxy passes on: everything but SIGCHLD, SIGPIPE and the
// signals Node keeps for itself.
const PROXIED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR2', 'SIGALRM', 'SIGTSTP', 'SIGCONT', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH'] as const;

function onSignal(handler: (signal: string) => void): () => void {
  const listeners = PROXIED.map((sig) => [sig, () => handler(sig)] as const);
  for (const [sig, fn] of listeners) process.on(sig, fn);
  return () => {
    for (const [sig, fn] of listeners) process.removeListener(sig, fn);
  };
}

// stdin and stderr are made when first used: making a stream loads modules
// (tty, net, fs streams) that most commands never need.
let stderr: NodeJS.WriteStream | undefined;
void runCli(process.argv.slice(2), {
  get stdin() {
    return process.stdin;
  },
  stdout: guarded(process.stdout),
  get stderr() {
    return (stderr ??= guarded(process.stderr));
  },
  env: process.env,
  onSignal,
  cwd: process.cwd(),
}).then((code) => {
  process.exitCode = code;
});
