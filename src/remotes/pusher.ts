// Pushing to one registry: blob existence, cross-repository mounts,
// monolithic uploads (POST for a session, then one streamed PUT), manifests.
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { invalid, unavailable } from '../errdefs/index.ts';
import { familiarName } from '../reference/format.ts';
import type { Reference } from '../reference/types.ts';
import { statusError, type ErrorContext } from './errors.ts';
import { discard, type HttpResponse } from './http.ts';
import { checkDigest, digestOf } from './manifest.ts';
import type { Session } from './session.ts';
import type { Descriptor } from './types.ts';

export function pushScope(path: string): string {
  return `repository:${path}:pull,push`;
}

function ctxFor(ref: Reference, subject: string): ErrorContext {
  return { action: 'push', name: familiarName(ref), subject };
}

export async function blobExistsOn(session: Session, ref: Reference, desc: Descriptor): Promise<boolean> {
  checkDigest(desc.digest);
  const res = await session.send({
    method: 'HEAD',
    path: `/v2/${ref.path}/blobs/${desc.digest}`,
    scopes: [pushScope(ref.path)],
    idempotent: true,
  });
  discard(res);
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw await statusError(res, ctxFor(ref, `blob ${desc.digest}`));
}

export async function mountBlobOn(session: Session, ref: Reference, desc: Descriptor, fromPath: string): Promise<boolean> {
  checkDigest(desc.digest);
  const q = new URLSearchParams({ mount: desc.digest, from: fromPath });
  const res = await session.send({
    method: 'POST',
    path: `/v2/${ref.path}/blobs/uploads/?${q}`,
    headers: { 'content-length': '0' },
    scopes: [pushScope(ref.path), `repository:${fromPath}:pull`],
    idempotent: true,
  });
  if (res.status === 401 || res.status === 403) throw await statusError(res, ctxFor(ref, `blob ${desc.digest}`));
  discard(res);
  if (res.status === 201) return true;
  // 202: the registry declined and opened an upload session instead; close
  // it rather than leave it to expire. Other answers: the caller uploads.
  if (res.status === 202) await cancelUpload(session, res, ref);
  return false;
}

async function cancelUpload(session: Session, res: HttpResponse, ref: Reference): Promise<void> {
  const location = res.headers.location;
  if (!location) return;
  try {
    const del = await session.send({ method: 'DELETE', url: new URL(location, res.url), scopes: [pushScope(ref.path)] });
    discard(del);
  } catch {
    // best effort: an abandoned session only costs the registry a timer
  }
}

/** Counts bytes on their way to the socket. */
function counter(onProgress: (sent: number) => void): Transform {
  let sent = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      sent += chunk.length;
      onProgress(sent);
      cb(null, chunk);
    },
  });
}

export async function pushBlobOn(
  session: Session,
  ref: Reference,
  desc: Descriptor,
  open: () => Readable,
  onProgress?: (sent: number) => void,
): Promise<void> {
  checkDigest(desc.digest);
  if (!Number.isSafeInteger(desc.size) || desc.size < 0) throw invalid(`blob ${desc.digest} has an invalid size ${desc.size}`);
  const subject = `blob ${desc.digest}`;
  const scopes = [pushScope(ref.path)];
  const start = await session.send({
    method: 'POST',
    path: `/v2/${ref.path}/blobs/uploads/`,
    headers: { 'content-length': '0' },
    scopes,
    idempotent: true, // a second session at worst, which expires unused
  });
  if (start.status !== 202) throw await statusError(start, ctxFor(ref, subject));
  discard(start);
  const location = start.headers.location;
  if (!location) throw unavailable(`${session.host} opened an upload for ${subject} without a Location`);
  const url = new URL(location, start.url);
  // Append rather than re-serialize: the Location's query (upload state) must
  // go back byte for byte.
  url.search = (url.search ? `${url.search}&` : '?') + `digest=${encodeURIComponent(desc.digest)}`;
  const res = await session.send({
    method: 'PUT',
    url,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
    body: () => {
      const src = open();
      // pipeline: when the request dies, the source (a file) is closed too.
      return onProgress ? pipeline(src, counter(onProgress), () => {}) : src;
    },
    scopes,
  });
  if (res.status !== 201 && res.status !== 204 && res.status !== 200) throw await statusError(res, ctxFor(ref, subject));
  discard(res);
}

const MANIFEST_REFERENCE = /^(?:[\w][\w.-]{0,127}|sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export async function putManifestOn(session: Session, ref: Reference, reference: string, mediaType: string, body: Buffer): Promise<string> {
  if (!MANIFEST_REFERENCE.test(reference)) throw invalid(`invalid tag or digest ${JSON.stringify(reference)} for a manifest of ${familiarName(ref)}`);
  if (!mediaType) throw invalid(`manifest for ${familiarName(ref)}:${reference} has no media type`);
  const res = await session.send({
    method: 'PUT',
    path: `/v2/${ref.path}/manifests/${reference}`,
    headers: { 'content-type': mediaType, 'content-length': String(body.length) },
    body: () => body,
    scopes: [pushScope(ref.path)],
    idempotent: true,
  });
  if (res.status < 200 || res.status > 299) throw await statusError(res, ctxFor(ref, `manifest ${reference}`));
  discard(res);
  const reported = res.headers['docker-content-digest'];
  return typeof reported === 'string' && reported ? reported : digestOf(body);
}
