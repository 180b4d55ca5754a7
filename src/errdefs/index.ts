// Typed errors with a stable kind. Code below the API layers throws these;
// each adapter maps the kind to its wire status in exactly one table.

export const ERROR_KINDS = [
  'invalid', // the caller sent something malformed (bad body, reference, flag)
  'not-found',
  'already-exists',
  'conflict', // the request clashes with the current state (in use, wrong state)
  'unauthorized', // no or bad credentials
  'forbidden', // credentials fine, permission denied
  'failed-precondition',
  'unavailable', // a dependency (registry, runtime) could not be reached
  'not-implemented',
  'canceled',
  'deadline-exceeded',
  'data-loss', // content did not match its digest, a layer is hostile, a record is corrupt
  'internal',
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

export class JoeyError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JoeyError';
    this.kind = kind;
  }
}

function maker(kind: ErrorKind) {
  return (message: string, cause?: unknown): JoeyError =>
    new JoeyError(kind, message, cause === undefined ? undefined : { cause });
}

export const invalid = maker('invalid');
export const notFound = maker('not-found');
export const alreadyExists = maker('already-exists');
export const conflict = maker('conflict');
export const unauthorized = maker('unauthorized');
export const forbidden = maker('forbidden');
export const failedPrecondition = maker('failed-precondition');
export const unavailable = maker('unavailable');
export const notImplemented = maker('not-implemented');
export const canceled = maker('canceled');
export const deadlineExceeded = maker('deadline-exceeded');
export const dataLoss = maker('data-loss');
export const internal = maker('internal');

/** The kind of any thrown value; foreign errors are internal. */
export function kindOf(err: unknown): ErrorKind {
  if (err instanceof JoeyError) return err.kind;
  if (err && typeof err === 'object' && (err as { name?: string }).name === 'AbortError') return 'canceled';
  return 'internal';
}

export function is(err: unknown, kind: ErrorKind): boolean {
  return kindOf(err) === kind;
}

/** Adds context to an error while keeping its kind. */
export function wrap(err: unknown, context: string): JoeyError {
  const message = err instanceof Error ? err.message : String(err);
  return new JoeyError(kindOf(err), `${context}: ${message}`, { cause: err });
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
