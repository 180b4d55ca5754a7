// The build service: a Dockerfile build from a context tar, as the classic
// (non-BuildKit) builder of dockerd does it.
import type { Readable } from 'node:stream';
import { JoeyError } from '../../errdefs/index.ts';
import type { AuthConfig, ProgressFn } from '../../images/types.ts';
import type { BuildCachePruneOptions, BuildCachePruneReport } from './prune.ts';

export type { BuildCachePruneOptions, BuildCachePruneReport } from './prune.ts';

export interface BuildOptions {
  /** Names to tag the result with ("app", "app:v1", "reg:5000/app:v1"). */
  tags?: string[];
  /** Path of the Dockerfile in the context (default "Dockerfile"). */
  dockerfile?: string;
  /** --build-arg values; null means "from the client's environment", which the client already resolved. */
  buildArgs?: Record<string, string | null>;
  /** --label, set on the final image. */
  labels?: Record<string, string>;
  target?: string;
  noCache?: boolean;
  /** Remove intermediate containers after a successful step (default true). */
  rm?: boolean;
  /** Remove intermediate containers even when a step failed. */
  forceRm?: boolean;
  /** Pull base images even when present. */
  pull?: boolean;
  /** Credentials for pulling base images, by registry (X-Registry-Config:
   * "127.0.0.1:5000", "https://index.docker.io/v1/", ...). */
  authConfigs?: Record<string, AuthConfig>;
  /** A base image's pull progress, as a pull reports it. */
  onProgress?: ProgressFn;
  /** RUN's network: "default", "bridge", "none", "host". */
  networkMode?: string;
  platform?: string;
  signal?: AbortSignal;
  /** Text for the user ("Step 1/3 : FROM busybox\n", RUN output, ...). */
  onOutput?: (text: string) => void;
  /** The image id, once known (Docker's aux message). */
  onImageId?: (id: string) => void;
}

export interface BuildResult {
  /** The image id (sha256:…). */
  id: string;
  /** The familiar names it was tagged with. */
  tags: string[];
}

export interface BuildService {
  build(context: Readable, opts?: BuildOptions): Promise<BuildResult>;
  /** POST /build/prune. */
  prune(opts?: BuildCachePruneOptions): Promise<BuildCachePruneReport>;
}

/** A step that failed with an exit code (a RUN): Docker sends the code in
 * the stream's errorDetail and the CLI exits with it. */
export class BuildStepError extends JoeyError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super('failed-precondition', message);
    this.name = 'BuildStepError';
  }
}
