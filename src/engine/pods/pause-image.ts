// The sandboxes' image. Without --pod-infra-image joey makes its own the
// first time a sandbox needs it: one layer holding joey-pause (built static
// by `make build`), so pods run without reaching any registry.
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { is, notFound, unavailable } from '../../errdefs/index.ts';
import type { ImageService } from '../../images/types.ts';
import { nativeProgram } from '../../sys/native.ts';
import { VERSION } from '../../version.ts';
import { PAUSE_ENTRYPOINT } from './configs.ts';

export const OWN_PAUSE_REPO = 'joey.local/pause';
export const OWN_PAUSE_IMAGE = `${OWN_PAUSE_REPO}:${VERSION}`;

/** A tar stream holding one executable file at /pause. */
function layerOf(binary: Buffer): Readable {
  const pack = tar.pack();
  pack.entry({ name: 'pause', mode: 0o755, uid: 0, gid: 0, mtime: new Date(0) }, binary);
  pack.finalize();
  return Readable.from(pack);
}

export class PauseImage {
  private making?: Promise<void>;

  constructor(
    private readonly images: ImageService,
    private readonly configured: string | undefined,
    private readonly binary: () => string | null = () => nativeProgram('joey-pause'),
  ) {}

  /** The reference sandboxes are created from. */
  get ref(): string {
    return this.configured ?? OWN_PAUSE_IMAGE;
  }

  /** Whether it is joey's own image (whose entrypoint joey sets). */
  get own(): boolean {
    return this.configured === undefined;
  }

  /** Makes sure the image is here: joey's own is made, a configured one is
   * pulled when missing. */
  async ensure(): Promise<void> {
    if (await this.present()) return;
    this.making ??= (this.own ? this.make() : this.images.pull(this.ref).then(() => undefined)).finally(() => {
      this.making = undefined;
    });
    await this.making;
  }

  private async present(): Promise<boolean> {
    try {
      await this.images.resolveId(this.ref);
      return true;
    } catch (e) {
      if (is(e, 'not-found')) return false;
      throw e;
    }
  }

  private async make(): Promise<void> {
    const path = this.binary();
    if (!path) throw unavailable('joey-pause was not built (make build needs gcc and libc6-dev for a static binary): give a sandbox image with --pod-infra-image');
    const bytes = await readFile(path).catch((e: unknown) => {
      throw notFound(`reading ${path}`, e);
    });
    const [repo, tag] = [OWN_PAUSE_REPO, VERSION];
    await this.images.import(layerOf(bytes), { repo, tag, message: 'joey pod sandbox', changes: [`ENTRYPOINT ${JSON.stringify(PAUSE_ENTRYPOINT)}`] });
  }
}
