// Image manifests, indexes and configs: types and strict validation of what
// comes from a registry or an archive.
import { createHash } from 'node:crypto';
import { dataLoss, invalid } from '../errdefs/index.ts';
import type { Descriptor, Platform } from '../remotes/types.ts';
import type { ImageConfig } from './types.ts';
import { MT, isConfig, isIndex, isLayer, isManifest } from './media-types.ts';

export interface Manifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface Index {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface HistoryItem {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfigFile {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  created?: string;
  author?: string;
  config?: ImageConfig;
  container_config?: ImageConfig;
  docker_version?: string;
  comment?: string;
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryItem[];
}

export const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw dataLoss(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

export function checkDescriptor(d: unknown, what: string): Descriptor {
  const o = d as Partial<Descriptor> | null;
  if (!o || typeof o !== 'object') throw dataLoss(`${what}: descriptor is not an object`);
  if (typeof o.mediaType !== 'string' || !o.mediaType) throw dataLoss(`${what}: descriptor has no mediaType`);
  if (typeof o.digest !== 'string' || !DIGEST_RE.test(o.digest)) throw dataLoss(`${what}: invalid digest ${JSON.stringify(o.digest)}`);
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) throw dataLoss(`${what}: invalid size ${JSON.stringify(o.size)}`);
  return o as Descriptor;
}

/** Tells an index from a manifest by its declared or implied media type. */
export function sniffMediaType(bytes: Buffer, declared?: string): string {
  const o = parseJson(bytes, 'manifest') as { mediaType?: string; manifests?: unknown; config?: unknown; schemaVersion?: number };
  if (typeof o !== 'object' || o === null) throw dataLoss('manifest is not a JSON object');
  if (o.schemaVersion === 1) throw invalid('Docker schema 1 manifests are not supported (deprecated since Docker 20.10); push the image again with a current client');
  const mt = o.mediaType ?? declared;
  if (mt && (isIndex(mt) || isManifest(mt))) return mt;
  if (Array.isArray(o.manifests)) return MT.ociIndex;
  if (o.config) return MT.ociManifest;
  throw dataLoss(`unsupported manifest media type ${JSON.stringify(mt ?? '')}`);
}

export function parseIndex(bytes: Buffer): Index {
  const o = parseJson(bytes, 'index') as Index;
  if (o?.schemaVersion !== 2) throw dataLoss('index: schemaVersion must be 2');
  if (!Array.isArray(o.manifests)) throw dataLoss('index: manifests is not a list');
  o.manifests = o.manifests.map((m, i) => checkDescriptor(m, `index entry ${i}`));
  o.mediaType ??= MT.ociIndex;
  return o;
}

export function parseManifest(bytes: Buffer): Manifest {
  const o = parseJson(bytes, 'manifest') as Manifest;
  if (o?.schemaVersion !== 2) throw dataLoss('manifest: schemaVersion must be 2');
  o.mediaType ??= MT.ociManifest;
  if (!isManifest(o.mediaType)) throw dataLoss(`manifest: unexpected mediaType ${o.mediaType}`);
  o.config = checkDescriptor(o.config, 'manifest config');
  if (!isConfig(o.config.mediaType)) throw dataLoss(`manifest config has media type ${o.config.mediaType}, which is not an image config`);
  if (!Array.isArray(o.layers)) throw dataLoss('manifest: layers is not a list');
  o.layers = o.layers.map((l, i) => {
    const d = checkDescriptor(l, `layer ${i}`);
    if (!isLayer(d.mediaType)) throw dataLoss(`layer ${i} (${d.digest}) has unsupported media type ${d.mediaType}`);
    return d;
  });
  return o;
}

export function parseConfig(bytes: Buffer): ImageConfigFile {
  const o = parseJson(bytes, 'image config') as ImageConfigFile;
  if (!o || typeof o !== 'object') throw dataLoss('image config is not an object');
  if (!o.rootfs || o.rootfs.type !== 'layers' || !Array.isArray(o.rootfs.diff_ids)) {
    throw dataLoss('image config: rootfs.diff_ids missing');
  }
  for (const d of o.rootfs.diff_ids) if (typeof d !== 'string' || !DIGEST_RE.test(d)) throw dataLoss(`image config: invalid diff id ${JSON.stringify(d)}`);
  if (typeof o.architecture !== 'string' || typeof o.os !== 'string') throw dataLoss('image config: architecture and os are required');
  return o;
}

export function configPlatform(c: ImageConfigFile): Platform {
  return c.variant ? { os: c.os, architecture: c.architecture, variant: c.variant } : { os: c.os, architecture: c.architecture };
}

/** Chain ids name a layer together with everything below it:
 * chain(0) = diff(0); chain(n) = sha256(chain(n-1) + " " + diff(n)). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev ? 'sha256:' + createHash('sha256').update(`${prev} ${d}`).digest('hex') : d);
  }
  return out;
}

export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}
