// The `joey` entry point (bundled into dist/joey.mjs).
import { runCli } from './program.ts';

// `joey images | head -1`: a closed pipe ends the output, not the process with a trace
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
