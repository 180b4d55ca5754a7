// An in-process registry for tests (node:http on 127.0.0.1): just enough of
// the distribution API and the token spec, with switches for the failures
// the client must survive.
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Descriptor } from './types.ts';

export type FakeAuth =
  | { kind: 'none' }
  | { kind: 'basic'; users: Record<string, string> }
  | {
      kind: 'bearer';
      users?: Record<string, string>;
      /** Anonymous tokens may pull. */
      anonymousPull?: boolean;
      expiresIn?: number;
    };

export interface FakeOptions {
  auth?: FakeAuth;
  /** false: answer Range requests with 200 and the whole blob. */
  honorRange?: boolean;
  /** How HEAD on a manifest answers: with all headers, without the digest, or 405. */
  head?: 'full' | 'no-digest' | 'unsupported';
  /** Cross-repo mounts: 'mount' answers 201 when the blob is in `from`; 'decline' always 202. */
  mount?: 'mount' | 'decline';
  /** Redirect blob GETs to this base URL + "/blobs/<digest>". */
  blobRedirect?: string;
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

interface Repo {
  manifests: Map<string, { mediaType: string; body: Buffer }>;
  tags: Map<string, string>;
  blobs: Set<string>;
}

interface Grant {
  user: string | undefined;
  access: Map<string, Set<string>>; // path -> actions
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function registryError(res: http.ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ errors: [{ code, message, detail: null }] });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function readAll(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class FakeRegistry {
  readonly server: http.Server;
  readonly opts: FakeOptions;
  readonly requests: SeenRequest[] = [];
  readonly tokenRequests: SeenRequest[] = [];
  readonly blobs = new Map<string, Buffer>();
  readonly repos = new Map<string, Repo>();
  /** Blob digest -> bytes to send before dropping the connection (once each). */
  readonly dropAfter = new Map<string, number>();
  /** Manifest digest -> bytes served instead of the real ones. */
  readonly corrupt = new Map<string, Buffer>();
  /** "METHOD /path" -> how many upcoming matches get their connection reset. */
  readonly resets = new Map<string, number>();
  /** Refresh tokens handed out at login -> user. */
  readonly refreshTokens = new Map<string, string>();
  readonly uploads = new Map<string, { path: string }>();
  readonly #tokens = new Map<string, Grant>();

  private constructor(opts: FakeOptions) {
    this.opts = opts;
    this.server = http.createServer((req, res) => {
      this.#handle(req, res).catch((err: Error) => {
        if (!res.headersSent) registryError(res, 500, 'UNKNOWN', err.message);
        else res.destroy();
      });
    });
  }

  static async start(opts: FakeOptions = {}): Promise<FakeRegistry> {
    const r = new FakeRegistry(opts);
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    return r;
  }

  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get url(): string {
    return `http://${this.host}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #repo(path: string): Repo {
    let r = this.repos.get(path);
    if (!r) {
      r = { manifests: new Map(), tags: new Map(), blobs: new Set() };
      this.repos.set(path, r);
    }
    return r;
  }

  addBlob(path: string, data: Buffer, mediaType = 'application/vnd.oci.image.layer.v1.tar'): Descriptor {
    const digest = sha256(data);
    this.blobs.set(digest, data);
    this.#repo(path).blobs.add(digest);
    return { mediaType, digest, size: data.length };
  }

  addManifest(path: string, body: Buffer, mediaType: string, tag?: string): Descriptor {
    const digest = sha256(body);
    const repo = this.#repo(path);
    repo.manifests.set(digest, { mediaType, body });
    if (tag) repo.tags.set(tag, digest);
    return { mediaType, digest, size: body.length };
  }

  /** Requests to the registry API matching "METHOD /v2/..." (query stripped). */
  seen(method: string, pathPrefix = '/v2/'): SeenRequest[] {
    return this.requests.filter((r) => r.method === method && r.url.split('?')[0]!.startsWith(pathPrefix));
  }

  // --- auth -------------------------------------------------------------

  #challenge(path: string | undefined, actions: string): string {
    const a = this.opts.auth ?? { kind: 'none' };
    if (a.kind === 'basic') return 'Basic realm="fake registry"';
    const scope = path ? `,scope="repository:${path}:${actions}"` : '';
    return `Bearer realm="${this.url}/token",service="fake-registry"${scope}`;
  }

  #checkBasic(header: string | undefined, users: Record<string, string>): string | undefined {
    if (!header?.startsWith('Basic ')) return undefined;
    const [user, ...rest] = Buffer.from(header.slice(6), 'base64').toString().split(':');
    return user && users[user] === rest.join(':') ? user : undefined;
  }

  /** True when the request may go on; otherwise it has been answered. */
  #authorize(req: http.IncomingMessage, res: http.ServerResponse, path: string | undefined, action: 'pull' | 'push'): boolean {
    const a = this.opts.auth ?? { kind: 'none' };
    if (a.kind === 'none') return true;
    const deny = (message: string) => {
      registryError(res, 401, 'UNAUTHORIZED', message, { 'www-authenticate': this.#challenge(path, action === 'push' ? 'pull,push' : 'pull') });
      return false;
    };
    if (a.kind === 'basic') return this.#checkBasic(req.headers.authorization, a.users) ? true : deny('authentication required');
    const h = req.headers.authorization;
    if (!h?.startsWith('Bearer ')) return deny('authentication required');
    const grant = this.#tokens.get(h.slice(7));
    if (!grant) return deny('invalid token');
    if (path === undefined) return true;
    if (!grant.access.get(path)?.has(action)) return deny('requested access to the resource is denied');
    return true;
  }

  async #token(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    this.tokenRequests.push({ method: req.method!, url: req.url!, headers: req.headers });
    const a = this.opts.auth;
    if (a?.kind !== 'bearer') return registryError(res, 404, 'UNSUPPORTED', 'no token service');
    let user: string | undefined;
    let scopes: string[];
    let offline = false;
    if (req.method === 'POST') {
      const form = new URLSearchParams((await readAll(req)).toString());
      if (form.get('grant_type') !== 'refresh_token') return registryError(res, 400, 'UNSUPPORTED', 'grant type');
      user = this.refreshTokens.get(form.get('refresh_token') ?? '');
      if (!user) return registryError(res, 401, 'UNAUTHORIZED', 'invalid refresh token');
      scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      offline = form.get('access_type') === 'offline';
    } else {
      const h = req.headers.authorization;
      if (h) {
        user = this.#checkBasic(h, a.users ?? {});
        if (!user) return registryError(res, 401, 'UNAUTHORIZED', 'incorrect username or password');
      }
      scopes = url.searchParams.getAll('scope');
      offline = url.searchParams.get('offline_token') === 'true';
    }
    const access = new Map<string, Set<string>>();
    for (const s of scopes) {
      const m = /^repository:(.+):([a-z,]+)$/.exec(s);
      if (!m) continue;
      const allowed = m[2]!.split(',').filter((act) => (user ? true : act === 'pull' && a.anonymousPull));
      const set = access.get(m[1]!) ?? new Set<string>();
      for (const act of allowed) set.add(act);
      access.set(m[1]!, set);
    }
    const token = randomUUID();
    this.#tokens.set(token, { user, access });
    const answer: Record<string, unknown> = { token, access_token: token, expires_in: a.expiresIn ?? 300 };
    if (offline && user) {
      const refresh = `refresh-${randomUUID()}`;
      this.refreshTokens.set(refresh, user);
      answer.refresh_token = refresh;
    }
    const body = JSON.stringify(answer);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  // --- API --------------------------------------------------------------

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url!, this.url);
    const key = `${req.method} ${url.pathname}`;
    const resets = this.resets.get(key) ?? 0;
    if (resets > 0) {
      this.resets.set(key, resets - 1);
      req.socket.destroy();
      return;
    }
    if (url.pathname === '/token') return this.#token(req, res, url);
    this.requests.push({ method: req.method!, url: req.url!, headers: req.headers });
    const p = url.pathname;
    if (p === '/v2/' || p === '/v2') {
      if (!this.#authorize(req, res, undefined, 'pull')) return;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2, 'docker-distribution-api-version': 'registry/2.0' });
      return void res.end('{}');
    }
    let m = /^\/v2\/(.+)\/blobs\/uploads\/(.*)$/.exec(p);
    if (m) return this.#upload(req, res, url, m[1]!, m[2]!);
    m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(p);
    if (!m) return registryError(res, 404, 'NOT_FOUND', `no route ${p}`);
    const [, path, kind, ref] = m as unknown as [string, string, string, string];
    const write = req.method === 'PUT' || req.method === 'DELETE';
    if (!this.#authorize(req, res, path, write ? 'push' : 'pull')) return;
    if (kind === 'manifests') return this.#manifest(req, res, path, ref);
    return this.#blob(req, res, path, ref);
  }

  async #manifest(req: http.IncomingMessage, res: http.ServerResponse, path: string, ref: string): Promise<void> {
    const repo = this.repos.get(path);
    if (req.method === 'PUT') {
      const body = await readAll(req);
      const digest = this.addManifest(path, body, String(req.headers['content-type']), ref.startsWith('sha256:') ? undefined : ref).digest;
      res.writeHead(201, { 'docker-content-digest': digest, location: `/v2/${path}/manifests/${digest}`, 'content-length': 0 });
      return void res.end();
    }
    if (!repo) return registryError(res, 404, 'NAME_UNKNOWN', 'repository name not known to registry');
    const digest = ref.startsWith('sha256:') ? ref : repo.tags.get(ref);
    const m = digest ? repo.manifests.get(digest) : undefined;
    if (!digest || !m) return registryError(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
    const body = this.corrupt.get(digest) ?? m.body;
    if (req.method === 'HEAD') {
      if (this.opts.head === 'unsupported') return registryError(res, 405, 'UNSUPPORTED', 'HEAD not supported');
      const h: Record<string, string | number> = { 'content-type': m.mediaType, 'content-length': body.length };
      if (this.opts.head !== 'no-digest') h['docker-content-digest'] = digest;
      res.writeHead(200, h);
      return void res.end();
    }
    res.writeHead(200, { 'content-type': m.mediaType, 'content-length': body.length, 'docker-content-digest': digest });
    res.end(body);
  }

  #blob(req: http.IncomingMessage, res: http.ServerResponse, path: string, digest: string): void {
    const data = this.repos.get(path)?.blobs.has(digest) ? this.blobs.get(digest) : undefined;
    if (!data) return registryError(res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry');
    if (req.method === 'HEAD') {
      res.writeHead(200, { 'content-length': data.length, 'docker-content-digest': digest });
      return void res.end();
    }
    if (this.opts.blobRedirect) {
      res.writeHead(307, { location: `${this.opts.blobRedirect}/blobs/${digest}`, 'content-length': 0 });
      return void res.end();
    }
    serveBytes(req, res, data, digest, this.opts.honorRange ?? true, this.dropAfter);
  }

  async #upload(req: http.IncomingMessage, res: http.ServerResponse, url: URL, path: string, id: string): Promise<void> {
    if (!this.#authorize(req, res, path, 'push')) return;
    if (req.method === 'POST' && id === '') {
      const mount = url.searchParams.get('mount');
      const from = url.searchParams.get('from');
      if (mount && from && this.opts.mount === 'mount' && this.repos.get(from)?.blobs.has(mount)) {
        this.#repo(path).blobs.add(mount);
        res.writeHead(201, { location: `/v2/${path}/blobs/${mount}`, 'docker-content-digest': mount, 'content-length': 0 });
        return void res.end();
      }
      const uuid = randomUUID();
      this.uploads.set(uuid, { path });
      // A relative Location with state in its query, as distribution sends.
      res.writeHead(202, { location: `/v2/${path}/blobs/uploads/${uuid}?_state=${encodeURIComponent('a+b/c=')}`, 'docker-upload-uuid': uuid, 'content-length': 0 });
      return void res.end();
    }
    const upload = this.uploads.get(id);
    if (!upload) return registryError(res, 404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry');
    if (req.method === 'DELETE') {
      this.uploads.delete(id);
      res.writeHead(204);
      return void res.end();
    }
    if (req.method !== 'PUT') return registryError(res, 405, 'UNSUPPORTED', req.method!);
    if (url.searchParams.get('_state') !== 'a+b/c=') return registryError(res, 400, 'BLOB_UPLOAD_INVALID', 'upload state lost');
    const body = await readAll(req);
    const digest = url.searchParams.get('digest');
    if (digest !== sha256(body)) return registryError(res, 400, 'DIGEST_INVALID', 'provided digest did not match uploaded content');
    this.uploads.delete(id);
    this.addBlob(path, body);
    res.writeHead(201, { location: `/v2/${path}/blobs/${digest}`, 'docker-content-digest': digest, 'content-length': 0 });
    res.end();
  }
}

/** Serves bytes with Range support and the drop-mid-body switch. */
export function serveBytes(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  data: Buffer,
  digest: string,
  honorRange: boolean,
  dropAfter: Map<string, number>,
): void {
  let start = 0;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (range && honorRange) start = Number(range[1]);
  const part = data.subarray(start);
  const headers: Record<string, string | number> = { 'content-length': part.length, 'content-type': 'application/octet-stream' };
  if (start > 0) headers['content-range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
  res.writeHead(start > 0 ? 206 : 200, headers);
  const drop = dropAfter.get(digest);
  if (drop !== undefined && drop < part.length) {
    dropAfter.delete(digest);
    res.write(part.subarray(0, drop), () => res.socket?.destroy());
    return;
  }
  res.end(part);
}

/** A server that only serves blobs at /blobs/<digest> (a CDN behind a redirect). */
export async function startBlobStore(blobs: Map<string, Buffer>): Promise<{ url: string; requests: SeenRequest[]; close(): Promise<void> }> {
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method!, url: req.url!, headers: req.headers });
    const digest = decodeURIComponent(req.url!.replace(/^\/blobs\//, ''));
    const data = blobs.get(digest);
    if (!data) return registryError(res, 404, 'BLOB_UNKNOWN', 'no such blob');
    serveBytes(req, res, data, digest, true, new Map());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
