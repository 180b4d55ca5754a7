// The OCI runtimes a daemon offers, as a table of names: the built-in ones
// found on the host, and those the user adds (--add-runtime, daemon.json
// "runtimes"), each a binary with runc's command line. Kept free of heavy
// imports: the daemon's flag parsing validates against it.
import { join } from 'node:path';

/** A runtime as daemon.json and GET /info spell it. */
export interface RuntimeSpec {
  /** The binary: an absolute path (or, from the user, a name looked up on PATH at start-up). */
  path: string;
  /** Global flags given to the binary before every subcommand. */
  runtimeArgs?: string[];
}

/** The runtime containers get when nothing else is configured. */
export const STOCK_RUNTIME = 'runc';

/** Names a user may not define, as dockerd reserves "runc". */
export const RESERVED_RUNTIME_NAMES: readonly string[] = [STOCK_RUNTIME];

/** A runtime name: also a directory name under the exec root. */
export const RUNTIME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** The runtimes present without configuration: runc always (found where
 * Debian puts it), crun where it is installed, since podman and dockerd
 * users expect to name it. A user's own "crun" replaces this one. */
export function builtinRuntimes(exists: (path: string) => boolean): Record<string, RuntimeSpec> {
  const runc = ['/usr/sbin/runc', '/usr/bin/runc'].find(exists) ?? 'runc';
  const crun = ['/usr/bin/crun', '/usr/local/bin/crun'].find(exists);
  return { runc: { path: runc }, ...(crun ? { crun: { path: crun } } : {}) };
}

/** Each runtime's private state dir (its --root). runc keeps the place it has
 * always had, so containers started before an upgrade are found again; the
 * others go one level down, where no name can clash with joey's own dirs. */
export function runtimeRoot(execRoot: string, name: string): string {
  return name === STOCK_RUNTIME ? join(execRoot, 'runc') : join(execRoot, 'runtimes', name);
}
