// Finding and loading runtime-v1.proto, joey's own description of the CRI
// subset it serves. The build copies it to dist/cri/; under tsx it is read
// from beside this file.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { unavailable } from '../../errdefs/index.ts';

const FILE = 'runtime-v1.proto';
/** Seen from src/api/cri/ (tsx), dist/ or dist/chunks/ (the bundle). */
const DIRS = ['./', './cri/', '../cri/'];

export function protoPath(): string {
  for (const rel of DIRS) {
    const p = fileURLToPath(new URL(rel + FILE, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw unavailable(`${FILE} not found beside joeyd (run make build)`);
}

/** How messages are decoded for the engine: names as on the wire, enums
 * as their names, 64-bit integers as decimal strings (nanosecond times do
 * not fit a double), unset fields filled with their defaults. */
export const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: false,
} as const;
