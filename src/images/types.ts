// The image service: what the API adapters call. Shapes of the results follow
// the Docker Engine API so that adapters only encode them.
import type { Readable } from 'node:stream';
import type { AuthConfig, Platform } from '../remotes/types.ts';

/** Progress of a pull, push or load, neutral of the wire format. The Docker
 * adapter turns it into Docker's JSON progress messages. */
export type Progress =
  // A whole-line status. With `id`, Docker shows "<id>: <text>", as in
  // "latest: Pulling from library/busybox".
  | { kind: 'message'; text: string; id?: string }
  | {
      kind: 'layer';
      /** Short id shown to the user: the first 12 hex digits of the blob digest. */
      id: string;
      phase:
        | 'waiting' // "Pulling fs layer" / "Preparing"
        | 'downloading' // "Downloading" (current/total)
        | 'verifying' // "Verifying Checksum"
        | 'download-complete'
        | 'extracting' // "Extracting" (current/total)
        | 'pull-complete'
        | 'already-exists'
        | 'pushing' // current/total
        | 'pushed'
        | 'layer-exists' // "Layer already exists" (push)
        | 'mounted' // "Mounted from <from>"
        | 'retrying'
        | 'loading'; // docker load of one layer
      current?: number;
      total?: number;
      from?: string;
    }
  | { kind: 'aux'; data: Record<string, unknown> }; // push result: { Tag, Digest, Size }

export type ProgressFn = (p: Progress) => void;

/** Filters as the Docker API sends them: {"dangling": ["true"], "label": ["a=b"]}. */
export type Filters = Record<string, string[]>;

export interface ImageConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number; StartInterval?: number };
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Shell?: string[];
}

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number; // unix seconds
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Record<string, string>;
  Containers: number;
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string; // RFC 3339
  DockerVersion: string;
  Author: string;
  Config: ImageConfig;
  /** The config the image was committed from (Config when the image does not say): deprecated by Docker, read by docker-compose 1.29. */
  ContainerConfig: ImageConfig;
  Architecture: string;
  Variant?: string;
  Os: string;
  OsVersion?: string;
  Size: number;
  VirtualSize?: number;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
  /** joey: where the image came from. */
  Descriptor?: { mediaType: string; digest: string; size: number };
}

export interface HistoryEntry {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export type DeleteResponseItem = { Untagged: string } | { Deleted: string };

export interface PullOptions {
  platform?: string; // "linux/amd64", "linux/arm64/v8"
  auth?: AuthConfig;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
}

export interface PullResult {
  id: string; // config digest
  /** The digest of what the reference resolved to (index or manifest). */
  digest: string;
  /** Normalized reference, with tag when one was pulled. */
  name: string;
  /** false when the image was already up to date. */
  downloaded: boolean;
}

export interface ImportOptions {
  repo?: string; // "name[:tag]"
  tag?: string;
  message?: string;
  changes?: string[]; // Dockerfile instructions: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL
  platform?: string;
}

export interface ImageService {
  pull(reference: string, opts?: PullOptions): Promise<PullResult>;
  push(reference: string, opts?: { tag?: string; auth?: AuthConfig; onProgress?: ProgressFn; signal?: AbortSignal }): Promise<{ tag: string; digest: string; size: number }>;
  list(opts?: { all?: boolean; filters?: Filters; digests?: boolean }): Promise<ImageSummary[]>;
  inspect(nameOrId: string): Promise<ImageInspect>;
  history(nameOrId: string): Promise<HistoryEntry[]>;
  tag(source: string, repo: string, tag?: string): Promise<void>;
  remove(nameOrId: string, opts?: { force?: boolean; noprune?: boolean }): Promise<DeleteResponseItem[]>;
  prune(filters?: Filters): Promise<{ ImagesDeleted: DeleteResponseItem[]; SpaceReclaimed: number }>;
  /** A tar stream in `docker save` format (OCI layout plus manifest.json). */
  save(names: string[]): Promise<Readable>;
  /** Loads a docker-archive or OCI-layout tarball. Returns "Loaded image: x" lines' subjects. */
  load(input: Readable, opts?: { onProgress?: ProgressFn; signal?: AbortSignal }): Promise<string[]>;
  /** Makes a one-layer image from a rootfs tarball (plain or compressed). */
  import(input: Readable, opts?: ImportOptions): Promise<string>;
  /** Resolves a name, short id or full id to the image id. */
  resolveId(nameOrId: string): Promise<string>;
  /** Credentials check for POST /auth. */
  login(auth: AuthConfig): Promise<{ Status: string; IdentityToken?: string }>;
}

export type { AuthConfig, Platform };
