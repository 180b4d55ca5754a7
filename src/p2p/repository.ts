// The p2p fetcher as a Registry: everything goes to the registry as before
// (resolving, manifests, configs, pushes: the registry's answer for the
// manifest is what proves the puller may have the image), except layer
// blobs, which come from peers when any has them.
import type { Readable } from 'node:stream';
import { isLayer } from '../images/media-types.ts';
import type { Descriptor, Registry, Repository } from '../remotes/types.ts';
import type { PullSources } from './source.ts';

export function p2pRegistry<R extends Registry>(inner: R, newSources: () => PullSources): R {
  const wrapped: Registry = {
    repository(ref, auth) {
      return new P2PRepository(inner.repository(ref, auth), newSources());
    },
    login: (server, auth) => inner.login(server, auth),
  };
  return Object.assign(Object.create(inner) as R, wrapped);
}

class P2PRepository implements Repository {
  readonly sharesDownloads = true;

  constructor(
    private readonly inner: Repository,
    private readonly sources: PullSources,
  ) {}

  get ref() {
    return this.inner.ref;
  }
  resolve() {
    return this.inner.resolve();
  }
  fetchManifest(desc: Descriptor) {
    return this.inner.fetchManifest(desc);
  }
  fetchBlob(desc: Descriptor, opts: { offset?: number; signal?: AbortSignal } = {}): Promise<Readable> {
    if (!isLayer(desc.mediaType)) return this.inner.fetchBlob(desc, opts);
    return this.sources.open(desc, opts.offset ?? 0, (offset, signal) => this.inner.fetchBlob(desc, { offset, signal }), opts.signal);
  }
  blobCorrupt(desc: Descriptor): boolean {
    return this.sources.corrupt(desc);
  }
  blobExists(desc: Descriptor) {
    return this.inner.blobExists(desc);
  }
  mountBlob(desc: Descriptor, fromPath: string) {
    return this.inner.mountBlob(desc, fromPath);
  }
  pushBlob(desc: Descriptor, open: () => Readable, onProgress?: (sent: number) => void) {
    return this.inner.pushBlob(desc, open, onProgress);
  }
  putManifest(reference: string, mediaType: string, body: Buffer) {
    return this.inner.putManifest(reference, mediaType, body);
  }
}
