// Manifest media types, the Accept header, and digest checks: nothing from
// a registry is used before its digest is verified.
import { createHash } from 'node:crypto';
import { dataLoss, invalid } from '../errdefs/index.ts';
import { discard, readBody, type HttpResponse } from './http.ts';

export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

const KNOWN = new Set<string>(Object.values(MEDIA_TYPES));

export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.ociManifest,
].join(', ');

/** Larger manifests are refused, as containerd and distribution do. */
export const MANIFEST_LIMIT = 4 << 20;

const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export function checkDigest(digest: string): 'sha256' | 'sha512' {
  if (!DIGEST.test(digest)) throw invalid(`invalid digest ${JSON.stringify(digest)} (want sha256:<64 hex> or sha512:<128 hex>)`);
  return digest.startsWith('sha256:') ? 'sha256' : 'sha512';
}

export function digestOf(data: Buffer, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** Throws `dataLoss` naming both digests when the bytes are not `expected`. */
export function verifyDigest(data: Buffer, expected: string, what: string): void {
  const actual = digestOf(data, checkDigest(expected));
  if (actual !== expected) throw dataLoss(`${what}: digest mismatch: expected ${expected}, got ${actual}`);
}

/** The media type from Content-Type when it is a manifest type, else from
 * the manifest's own mediaType field or shape. */
export function manifestMediaType(contentType: string | undefined, body?: Buffer): string | undefined {
  const ct = contentType?.split(';')[0]?.trim().toLowerCase();
  if (ct && (KNOWN.has(ct) || ct.startsWith('application/vnd.'))) return ct;
  if (!body) return undefined;
  try {
    const m = JSON.parse(body.toString('utf8')) as { mediaType?: unknown; manifests?: unknown; layers?: unknown; config?: unknown };
    if (typeof m.mediaType === 'string' && m.mediaType) return m.mediaType;
    if (Array.isArray(m.manifests)) return MEDIA_TYPES.ociIndex;
    if (m.config || Array.isArray(m.layers)) return MEDIA_TYPES.ociManifest;
  } catch {
    // not JSON: the caller reports a missing media type
  }
  return undefined;
}

/** Reads a manifest body: at most MANIFEST_LIMIT bytes, and at most
 * `expectedSize` when a descriptor gives it. */
export async function readManifestBody(res: HttpResponse, what: string, expectedSize?: number): Promise<Buffer> {
  const bySize = expectedSize !== undefined && expectedSize > 0 && expectedSize < MANIFEST_LIMIT;
  const limit = bySize ? expectedSize : MANIFEST_LIMIT;
  const declared = Number(res.headers['content-length']);
  if (res.headers['content-length'] !== undefined && Number.isFinite(declared) && declared > limit) {
    discard(res);
    throw tooLarge(what, `${declared} bytes`, limit, bySize);
  }
  try {
    return await readBody(res.body, limit);
  } catch (err) {
    if ((err as { code?: string }).code === 'ETOOBIG') throw tooLarge(what, `more than ${limit} bytes`, limit, bySize);
    throw err;
  }
}

function tooLarge(what: string, got: string, limit: number, bySize: boolean): Error {
  return bySize
    ? dataLoss(`${what}: the registry sent ${got}, but the descriptor says ${limit}`)
    : invalid(`${what}: the registry sent ${got}; a manifest may have at most ${MANIFEST_LIMIT} bytes (4 MiB)`);
}
