// The fleet's shared secret: peers and the tracker send it as a bearer token
// and check it in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';

export function bearer(secret: string): string {
  return `Bearer ${secret}`;
}

/** Whether an Authorization header carries `secret`. Both sides are hashed
 * first, so the comparison takes the same time whatever the lengths. */
export function checkSecret(header: string | string[] | undefined, secret: string): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string' || !value.startsWith('Bearer ')) return false;
  const got = createHash('sha256').update(value.slice('Bearer '.length)).digest();
  const want = createHash('sha256').update(secret).digest();
  return timingSafeEqual(got, want) && secret.length > 0;
}
