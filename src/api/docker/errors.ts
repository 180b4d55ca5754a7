// The one place where an error kind becomes an HTTP status for the Docker API.
import type { ServerResponse } from 'node:http';
import { kindOf, messageOf, type ErrorKind } from '../../errdefs/index.ts';

/** Error kind → HTTP status, as dockerd's httpstatus.FromError maps its own
 * error classes. Choices where Docker has no direct equivalent:
 * - failed-precondition → 409: dockerd reports "wrong state" errors (container
 *   not running, image in use) as Conflict, and clients key on 409 for them.
 * - canceled → 500: dockerd has no status for a cancelled request; by the time
 *   it happens the client has usually gone, so the code is rarely seen.
 * - deadline-exceeded → 504, data-loss → 500 (dockerd sends 500 for both; 504
 *   tells a caller that retrying may help). */
export const HTTP_STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  invalid: 400,
  'not-found': 404,
  'already-exists': 409,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  'failed-precondition': 409,
  unavailable: 503,
  'not-implemented': 501,
  canceled: 500,
  'deadline-exceeded': 504,
  'data-loss': 500,
  internal: 500,
};

export function httpStatusOf(err: unknown): number {
  return HTTP_STATUS_BY_KIND[kindOf(err)] ?? 500;
}

/** Writes `{"message": ...}` with the status of the error's kind. */
export function writeError(res: ServerResponse, err: unknown): void {
  const status = httpStatusOf(err);
  writeErrorMessage(res, status, messageOf(err));
}

export function writeErrorMessage(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ message }) + '\n';
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** The JSON line that reports an error once a progress stream has begun
 * (the status line was already sent as 200). */
export function streamErrorLine(err: unknown): string {
  const message = messageOf(err);
  return JSON.stringify({ errorDetail: { message }, error: message }) + '\n';
}
