// Resolving a reference to its root descriptor on one endpoint: HEAD first
// (cheap, and Docker Hub does not count it against pull limits), GET when
// the HEAD answer lacks what a descriptor needs or fails.
import { dataLoss, invalid } from '../errdefs/index.ts';
import { familiarName, familiarString, withDefaultTag } from '../reference/format.ts';
import type { Reference } from '../reference/types.ts';
import { statusError, type ErrorContext } from './errors.ts';
import { discard, type HttpResponse } from './http.ts';
import { checkDigest, digestOf, MANIFEST_ACCEPT, MANIFEST_LIMIT, manifestMediaType, readManifestBody, verifyDigest } from './manifest.ts';
import type { Session } from './session.ts';
import type { Descriptor } from './types.ts';

export function pullScope(path: string): string {
  return `repository:${path}:pull`;
}

export interface Resolved {
  desc: Descriptor;
  /** The verified manifest bytes when a GET was needed anyway. */
  body?: Buffer;
}

function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export async function resolveOn(session: Session, ref: Reference): Promise<Resolved> {
  const r = withDefaultTag(ref);
  const target = r.digest ?? r.tag!;
  const path = `/v2/${r.path}/manifests/${target}`;
  const subject = `manifest for ${familiarString(r)}`;
  const ctx: ErrorContext = { action: 'pull', name: familiarName(r), subject };
  const base = { path, headers: { accept: MANIFEST_ACCEPT }, scopes: [pullScope(r.path)], idempotent: true };

  const head = await session.send({ method: 'HEAD', ...base });
  discard(head);
  if (head.status === 200) {
    const claimed = header(head, 'docker-content-digest');
    if (r.digest && claimed && claimed !== r.digest) {
      throw dataLoss(`${session.host} answered for ${subject} with a different digest: expected ${r.digest}, got ${claimed}`);
    }
    const digest = r.digest ?? claimed;
    const size = Number(header(head, 'content-length'));
    const mediaType = manifestMediaType(header(head, 'content-type'));
    if (digest && isDigest(digest) && mediaType && Number.isInteger(size) && size > 0 && size <= MANIFEST_LIMIT) {
      return { desc: { mediaType, digest, size } };
    }
  }

  // The GET's error body says more than a HEAD can, so failures land here too.
  const res = await session.send({ method: 'GET', ...base });
  if (res.status !== 200) throw await statusError(res, ctx);
  const claimed = header(res, 'docker-content-digest');
  const body = await readManifestBody(res, subject);
  let digest: string;
  if (r.digest) {
    verifyDigest(body, r.digest, `${subject} from ${session.host}`);
    digest = r.digest;
  } else {
    digest = digestOf(body, claimed?.startsWith('sha512:') ? 'sha512' : 'sha256');
    if (claimed && claimed !== digest) {
      throw dataLoss(`${subject} from ${session.host}: digest mismatch: expected ${claimed}, got ${digest}`);
    }
  }
  const mediaType = manifestMediaType(header(res, 'content-type'), body);
  if (!mediaType) throw invalid(`${subject} from ${session.host} has no media type`);
  return { desc: { mediaType, digest, size: body.length }, body };
}

function isDigest(s: string): boolean {
  try {
    checkDigest(s);
    return true;
  } catch {
    return false;
  }
}
