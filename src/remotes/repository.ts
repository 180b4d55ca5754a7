// One repository on a registry: pulls go through the mirrors then the
// origin, each failure moving on to the next; pushes go to the origin only.
import type { Readable } from 'node:stream';
import { is } from '../errdefs/index.ts';
import type { Reference } from '../reference/types.ts';
import { log } from '../util/log.ts';
import type { Credentials } from './auth.ts';
import { fetchBlobOn, fetchManifestOn, verifyManifest } from './fetcher.ts';
import type { Endpoint } from './hosts.ts';
import { blobExistsOn, mountBlobOn, pushBlobOn, putManifestOn } from './pusher.ts';
import { resolveOn } from './resolver.ts';
import { Session, type ClientContext } from './session.ts';
import type { Descriptor, Repository } from './types.ts';

export interface RepositoryHosts {
  /** Mirrors first, origin last. */
  pull: Endpoint[];
  origin: Endpoint;
}

export class RegistryRepository implements Repository {
  readonly ref: Reference;
  readonly #ctx: ClientContext;
  readonly #creds: Credentials | undefined;
  readonly #hostsOf: () => Promise<RepositoryHosts>;
  #hosts: Promise<RepositoryHosts> | undefined;
  #sessions = new Map<Endpoint, Session>();
  /** The endpoint that resolved the reference: later fetches start there. */
  #preferred: Endpoint | undefined;
  /** Manifest bytes already fetched and verified while resolving. */
  #manifests = new Map<string, Buffer>();

  constructor(ref: Reference, ctx: ClientContext, creds: Credentials | undefined, hosts: () => Promise<RepositoryHosts>) {
    this.ref = ref;
    this.#ctx = ctx;
    this.#creds = creds;
    this.#hostsOf = hosts;
  }

  #session(ep: Endpoint): Session {
    let s = this.#sessions.get(ep);
    if (!s) {
      // A mirror never sees the user's Docker Hub credentials.
      s = new Session(this.#ctx, ep, ep.mirror ? undefined : this.#creds);
      this.#sessions.set(ep, s);
    }
    return s;
  }

  async #pull<T>(what: string, op: (s: Session) => Promise<T>): Promise<{ value: T; endpoint: Endpoint }> {
    const { pull } = await (this.#hosts ??= this.#hostsOf());
    const order = this.#preferred ? [this.#preferred, ...pull.filter((e) => e !== this.#preferred)] : pull;
    let last: unknown;
    for (const [i, endpoint] of order.entries()) {
      try {
        return { value: await op(this.#session(endpoint)), endpoint };
      } catch (err) {
        if (is(err, 'canceled') || i === order.length - 1) throw err;
        log.debug('registry endpoint failed, trying the next', { what, host: endpoint.host, err: err as Error });
        last = err;
      }
    }
    throw last;
  }

  async #origin(): Promise<Session> {
    const { origin } = await (this.#hosts ??= this.#hostsOf());
    return this.#session(origin);
  }

  async resolve(): Promise<Descriptor> {
    const { value, endpoint } = await this.#pull('resolve', (s) => resolveOn(s, this.ref));
    this.#preferred = endpoint;
    if (value.body) this.#manifests.set(value.desc.digest, value.body);
    return value.desc;
  }

  async fetchManifest(desc: Descriptor): Promise<Buffer> {
    const cached = this.#manifests.get(desc.digest);
    if (cached) {
      this.#manifests.delete(desc.digest);
      verifyManifest(cached, desc, `manifest ${desc.digest}`);
      return cached;
    }
    return (await this.#pull('manifest', (s) => fetchManifestOn(s, this.ref, desc))).value;
  }

  async fetchBlob(desc: Descriptor, opts: { offset?: number; signal?: AbortSignal } = {}): Promise<Readable> {
    return (await this.#pull('blob', (s) => fetchBlobOn(s, this.ref, desc, opts.offset ?? 0, opts.signal))).value;
  }

  async blobExists(desc: Descriptor): Promise<boolean> {
    return blobExistsOn(await this.#origin(), this.ref, desc);
  }

  async mountBlob(desc: Descriptor, fromPath: string): Promise<boolean> {
    return mountBlobOn(await this.#origin(), this.ref, desc, fromPath);
  }

  async pushBlob(desc: Descriptor, open: () => Readable, onProgress?: (sent: number) => void): Promise<void> {
    return pushBlobOn(await this.#origin(), this.ref, desc, open, onProgress);
  }

  async putManifest(reference: string, mediaType: string, body: Buffer): Promise<string> {
    return putManifestOn(await this.#origin(), this.ref, reference, mediaType, body);
  }
}
