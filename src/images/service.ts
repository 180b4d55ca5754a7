// The ImageService: each method is one operation module.
import type { Readable } from 'node:stream';
import { invalid } from '../errdefs/index.ts';
import type { ImageContext } from './context.ts';
import { importImage } from './import.ts';
import { loadImages } from './load.ts';
import { pull } from './pull.ts';
import { push } from './push.ts';
import { imageHistory, inspectImage, listImages, resolveImage } from './query.ts';
import { pruneImages, removeImage, tagImage } from './remove.ts';
import { saveImages } from './save.ts';
import type { AuthConfig, Filters, ImageService, ImportOptions, PullOptions, ProgressFn } from './types.ts';

export class Images implements ImageService {
  constructor(readonly ctx: ImageContext) {}

  pull(reference: string, opts?: PullOptions) {
    return pull(this.ctx, reference, opts);
  }
  push(reference: string, opts?: { tag?: string; auth?: AuthConfig; onProgress?: ProgressFn; signal?: AbortSignal }) {
    return push(this.ctx, reference, opts);
  }
  list(opts?: { all?: boolean; filters?: Filters; digests?: boolean }) {
    return listImages(this.ctx, opts);
  }
  inspect(nameOrId: string) {
    return inspectImage(this.ctx, nameOrId);
  }
  history(nameOrId: string) {
    return imageHistory(this.ctx, nameOrId);
  }
  async tag(source: string, repo: string, tag?: string) {
    tagImage(this.ctx, source, repo, tag);
  }
  remove(nameOrId: string, opts?: { force?: boolean; noprune?: boolean }) {
    return removeImage(this.ctx, nameOrId, opts);
  }
  prune(filters?: Filters) {
    return pruneImages(this.ctx, filters);
  }
  save(names: string[]): Promise<Readable> {
    return saveImages(this.ctx, names);
  }
  load(input: Readable, opts?: { onProgress?: ProgressFn; signal?: AbortSignal }) {
    return loadImages(this.ctx, input, opts);
  }
  import(input: Readable, opts?: ImportOptions) {
    return importImage(this.ctx, input, opts);
  }
  async resolveId(nameOrId: string) {
    return resolveImage(this.ctx, nameOrId).id;
  }
  async login(auth: AuthConfig) {
    if (!auth.username && !auth.identitytoken && !auth.auth) throw invalid('login needs a username and password, or an identity token');
    const server = auth.serveraddress || 'https://index.docker.io/v1/';
    const res = await this.ctx.deps.registry.login(server, auth);
    return { Status: 'Login Succeeded', IdentityToken: res.identityToken ?? '' };
  }
}
