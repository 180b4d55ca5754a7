// Reading and writing an OCI image layout directory (index.json + blobs/) by
// hand, for what umoci cannot do: image indexes and config fields it has no flag for.
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const MT = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const REF_NAME = 'org.opencontainers.image.ref.name';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface Index {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
export const digestOf = (b: Buffer | string): string => `sha256:${sha256(b)}`;

export function blobPath(layout: string, digest: string): string {
  const [alg, hex] = digest.split(':');
  return join(layout, 'blobs', alg!, hex!);
}

export async function readIndex(layout: string): Promise<Index> {
  return JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as Index;
}

export async function writeIndex(layout: string, index: Index): Promise<void> {
  const tmp = join(layout, `index.json.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify(index));
  await rename(tmp, join(layout, 'index.json'));
}

export async function readBlob(layout: string, digest: string): Promise<Buffer> {
  return readFile(blobPath(layout, digest));
}

export async function readJsonBlob<T>(layout: string, digest: string): Promise<T> {
  return JSON.parse((await readBlob(layout, digest)).toString()) as T;
}

/** Stores `data` as a blob and returns its descriptor. */
export async function writeBlob(layout: string, mediaType: string, data: Buffer | string | object): Promise<Descriptor> {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(typeof data === 'string' ? data : JSON.stringify(data));
  const digest = digestOf(buf);
  await writeFile(blobPath(layout, digest), buf);
  return { mediaType, digest, size: buf.length };
}

/** The descriptor tagged `tag` in index.json. */
export async function tagged(layout: string, tag: string): Promise<Descriptor> {
  const d = (await readIndex(layout)).manifests.find((m) => m.annotations?.[REF_NAME] === tag);
  if (!d) throw new Error(`${layout}: no tag ${tag}`);
  return d;
}

/** Points `tag` at `desc` in index.json, replacing what it pointed at. */
export async function setTag(layout: string, tag: string, desc: Descriptor): Promise<void> {
  const index = await readIndex(layout);
  index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag);
  index.manifests.push({ ...desc, annotations: { ...desc.annotations, [REF_NAME]: tag } });
  await writeIndex(layout, index);
}
