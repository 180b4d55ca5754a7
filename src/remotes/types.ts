// The registry client, split by role as the distribution spec splits the
// work: resolving a reference to a descriptor, fetching, pushing, auth.
import type { Readable } from 'node:stream';
import type { Reference } from '../reference/types.ts';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** Credentials for one registry, as the Docker API carries them
 * (X-Registry-Auth, POST /auth). */
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string; // base64 "user:pass"
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export interface RegistryOptions {
  /** Hosts (host or host:port, or CIDR) reachable over plain HTTP / without TLS verification. */
  insecureRegistries: string[];
  /** Mirrors for docker.io, tried in order before the origin ("http://127.0.0.1:5001"). */
  mirrors: string[];
  userAgent?: string;
  /** Per-request timeout for connect and headers (ms). */
  timeoutMs?: number;
}

export interface Registry {
  /** A handle on one repository; auth is taken from `auth` for its host. */
  repository(ref: Reference, auth?: AuthConfig): Repository;
  /** Checks credentials against a registry (for POST /auth). Returns an
   * identity token when the registry's token service gives one. */
  login(serverAddress: string, auth: AuthConfig): Promise<{ identityToken?: string }>;
}

export interface Repository {
  readonly ref: Reference;
  /** Resolves a tag or digest (from the reference) to the root descriptor:
   * a manifest or an index. Tries mirrors then the origin. */
  resolve(): Promise<Descriptor>;
  /** Fetches a manifest or index by descriptor, verifying size and digest. */
  fetchManifest(desc: Descriptor): Promise<Buffer>;
  /** Streams a blob from `offset` (resumes with a Range request). Does not verify. */
  fetchBlob(desc: Descriptor, opts?: { offset?: number; signal?: AbortSignal }): Promise<Readable>;
  /** The bytes last given for `desc` did not verify. A fetcher with several
   * sources (p2p) drops the ones that gave them and returns true when a new
   * try is worth it; the registry alone has nothing else to offer. */
  blobCorrupt?(desc: Descriptor): boolean;
  /** Whether the layer downloads of this fetcher are read by others while
   * they run (p2p): a download given up on is then removed rather than kept
   * for the next pull to resume. */
  readonly sharesDownloads?: boolean;
  blobExists(desc: Descriptor): Promise<boolean>;
  /** Cross-repository mount; false when the registry declines (then push the blob). */
  mountBlob(desc: Descriptor, fromPath: string): Promise<boolean>;
  /** Uploads a blob whose bytes `open()` gives; the registry verifies the digest. */
  pushBlob(desc: Descriptor, open: () => Readable, onProgress?: (sent: number) => void): Promise<void>;
  /** PUT a manifest under a tag or digest. Returns the digest the registry reports. */
  putManifest(reference: string, mediaType: string, body: Buffer): Promise<string>;
}
