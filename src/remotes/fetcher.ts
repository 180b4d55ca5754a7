// Fetching content by descriptor from one endpoint: manifests (small,
// verified here) and blobs (streamed, resumable with Range, verified by
// the caller as it writes them).
import { pipeline, Readable } from 'node:stream';
import { dataLoss, invalid, unavailable } from '../errdefs/index.ts';
import { familiarName } from '../reference/format.ts';
import type { Reference } from '../reference/types.ts';
import { statusError } from './errors.ts';
import { discard, skipBytes } from './http.ts';
import { checkDigest, MANIFEST_ACCEPT, MANIFEST_LIMIT, readManifestBody, verifyDigest } from './manifest.ts';
import { pullScope } from './resolver.ts';
import type { Session } from './session.ts';
import type { Descriptor } from './types.ts';

export async function fetchManifestOn(session: Session, ref: Reference, desc: Descriptor): Promise<Buffer> {
  checkDigest(desc.digest);
  const subject = `manifest ${desc.digest} of ${familiarName(ref)}`;
  if (desc.size > MANIFEST_LIMIT) {
    throw invalid(`${subject} is ${desc.size} bytes; a manifest may have at most ${MANIFEST_LIMIT} bytes (4 MiB)`);
  }
  const accept = desc.mediaType && !MANIFEST_ACCEPT.includes(desc.mediaType) ? `${desc.mediaType}, ${MANIFEST_ACCEPT}` : MANIFEST_ACCEPT;
  const res = await session.send({
    method: 'GET',
    path: `/v2/${ref.path}/manifests/${desc.digest}`,
    headers: { accept },
    scopes: [pullScope(ref.path)],
    idempotent: true,
  });
  if (res.status !== 200) throw await statusError(res, { action: 'pull', name: familiarName(ref), subject });
  const body = await readManifestBody(res, subject, desc.size);
  verifyManifest(body, desc, `${subject} from ${session.host}`);
  return body;
}

export function verifyManifest(body: Buffer, desc: Descriptor, what: string): void {
  if (desc.size > 0 && body.length !== desc.size) {
    throw dataLoss(`${what}: size mismatch: expected ${desc.size} bytes, got ${body.length}`);
  }
  verifyDigest(body, desc.digest, what);
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

export async function fetchBlobOn(
  session: Session,
  ref: Reference,
  desc: Descriptor,
  offset: number,
  signal?: AbortSignal,
): Promise<Readable> {
  checkDigest(desc.digest);
  if (!Number.isSafeInteger(offset) || offset < 0) throw invalid(`invalid offset ${offset} for blob ${desc.digest}`);
  if (desc.size > 0 && offset > desc.size) throw invalid(`offset ${offset} is past the end of blob ${desc.digest} (${desc.size} bytes)`);
  if (desc.size > 0 && offset === desc.size) return Readable.from([]);
  const subject = `blob ${desc.digest} of ${familiarName(ref)}`;
  const res = await session.send({
    method: 'GET',
    path: `/v2/${ref.path}/blobs/${desc.digest}`,
    headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
    scopes: [pullScope(ref.path)],
    // Safe: nothing of the body has been read when a reset is retried.
    idempotent: true,
    signal,
  });
  if (res.status === 200) {
    // The server ignored Range: drop what we already have ourselves.
    return offset > 0 ? pipeline(res.body, skipBytes(offset), () => {}) : res.body;
  }
  if (res.status === 206) {
    const range = String(res.headers['content-range'] ?? '');
    const m = CONTENT_RANGE.exec(range);
    const start = m ? Number(m[1]) : NaN;
    if (start === offset) return res.body;
    if (start < offset) return pipeline(res.body, skipBytes(offset - start), () => {});
    discard(res);
    throw unavailable(`${res.url.host} answered a request for ${subject} from byte ${offset} with Content-Range ${JSON.stringify(range)}`);
  }
  throw await statusError(res, { action: 'pull', name: familiarName(ref), subject });
}
