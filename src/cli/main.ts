// The `joey` entry point (bundled into dist/joey.mjs).
import { runCli } from './program.ts';

// `joey images | head -1`: a closed pipe ends the output, not the process with a trace
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
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

process.exitCode = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  onSignal,
  cwd: process.cwd(),
});
