// docker's pattern for commands over several containers: run the operation
// for each (up to 50 at once), print each name that worked in the order
// given, and fail at the end with every error, one per line.
import type { Cli } from './context.ts';
import { StatusError, displayError } from './errors.ts';
import { escapePath } from '../client/client.ts';

const PARALLEL = 50;

/** "/containers/<name>" with the name escaped for the URL path. */
export const containerPath = (name: string, rest = ''): string => `/containers/${escapePath(name)}${rest}`;

export interface EachOptions {
  /** One at a time (restart, wait), else up to 50 together. */
  sequential?: boolean;
  /** An error to report on stderr right away and not count as a failure. */
  tolerate?: (err: unknown) => boolean;
  /** What to print for a success (default: the name as given). */
  print?: (name: string, result: unknown) => string | undefined;
}

export async function forEachContainer(cli: Cli, names: string[], op: (name: string) => Promise<unknown>, opts: EachOptions = {}): Promise<void> {
  type Result = { ok: true; value: unknown } | { ok: false; err: unknown };
  const settle = (name: string): Promise<Result> =>
    op(name).then(
      (value) => ({ ok: true as const, value }),
      (err: unknown) => ({ ok: false as const, err }),
    );
  const errors: string[] = [];
  const report = (name: string, r: Result) => {
    if (r.ok) {
      const line = opts.print ? opts.print(name, r.value) : name;
      if (line !== undefined) cli.out(line + '\n');
    } else if (opts.tolerate?.(r.err)) {
      cli.err(displayError(r.err) + '\n');
    } else {
      errors.push(displayError(r.err));
    }
  };
  if (opts.sequential) {
    for (const name of names) report(name, await settle(name));
  } else {
    let running = 0;
    const queue: Array<() => void> = [];
    const results = names.map(async (name) => {
      if (running >= PARALLEL) await new Promise<void>((r) => queue.push(r));
      running++;
      try {
        return await settle(name);
      } finally {
        running--;
        queue.shift()?.();
      }
    });
    for (let i = 0; i < names.length; i++) report(names[i]!, await results[i]!);
  }
  if (errors.length > 0) throw new StatusError(errors.join('\n'));
}
