// Plain HTTP requests to a registry (API v2), answering basic and bearer
// challenges, for fixtures that must put bytes there that no tool would push.
import { digestOf } from './oci-layout.ts';

export interface Creds {
  username: string;
  password: string;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
}

export class RegistryClient {
  private readonly tokens = new Map<string, string>();
  private basic: string | undefined;

  /** `base` is http://HOST:PORT. */
  constructor(readonly base: string, private readonly creds?: Creds) {}

  async request(method: string, path: string, opts: { body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<Reply> {
    const url = path.startsWith('http') ? path : `${this.base}${path}`;
    const send = async (authorization?: string): Promise<Reply> => {
      const headers: Record<string, string> = { ...opts.headers };
      if (authorization) headers.authorization = authorization;
      const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : new Uint8Array(opts.body);
      const res = await fetch(url, { method, headers, body, redirect: 'follow' });
      return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
    };
    const cached = this.basic ?? this.tokenFor(url);
    let reply = await send(cached);
    if (reply.status !== 401) return reply;
    const challenge = reply.headers.get('www-authenticate') ?? '';
    if (/^basic/i.test(challenge)) {
      if (!this.creds) return reply;
      this.basic = `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}`;
      return send(this.basic);
    }
    if (/^bearer/i.test(challenge)) {
      const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      const tokenUrl = new URL(params.realm!);
      if (params.service) tokenUrl.searchParams.set('service', params.service);
      if (params.scope) tokenUrl.searchParams.set('scope', params.scope);
      const headers: Record<string, string> = {};
      if (this.creds) headers.authorization = `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}`;
      const tr = await fetch(tokenUrl, { headers });
      if (!tr.ok) return reply;
      const tj = (await tr.json()) as { token?: string; access_token?: string };
      const token = `Bearer ${tj.token ?? tj.access_token}`;
      this.tokens.set(repoOf(url) + '|' + (params.scope ?? ''), token);
      this.tokens.set(repoOf(url), token);
      reply = await send(token);
    }
    return reply;
  }

  private tokenFor(url: string): string | undefined {
    return this.tokens.get(repoOf(url));
  }

  private async must(method: string, path: string, ok: number[], opts: { body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<Reply> {
    const r = await this.request(method, path, opts);
    if (!ok.includes(r.status)) throw new Error(`${method} ${path}: HTTP ${r.status}: ${r.body.toString().slice(0, 500)}`);
    return r;
  }

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    return (await this.request('HEAD', `/v2/${repo}/blobs/${digest}`)).status === 200;
  }

  /** Uploads a blob in one PUT (monolithic upload), unless the repository has it. Returns its digest. */
  async putBlob(repo: string, data: Buffer, digest = digestOf(data)): Promise<string> {
    if (await this.hasBlob(repo, digest)) return digest;
    const start = await this.must('POST', `/v2/${repo}/blobs/uploads/`, [202]);
    const location = new URL(start.headers.get('location')!, this.base);
    location.searchParams.set('digest', digest);
    await this.must('PUT', location.toString(), [201], {
      body: data,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
    });
    return digest;
  }

  /** PUTs a manifest under a tag or digest; returns the digest the registry reports. */
  async putManifest(repo: string, reference: string, body: Buffer | string, mediaType: string): Promise<string> {
    const r = await this.must('PUT', `/v2/${repo}/manifests/${reference}`, [201], { body, headers: { 'content-type': mediaType } });
    return r.headers.get('docker-content-digest') ?? digestOf(body);
  }

  async getManifest(repo: string, reference: string, accept: string[]): Promise<Reply> {
    return this.must('GET', `/v2/${repo}/manifests/${reference}`, [200], { headers: { accept: accept.join(', ') } });
  }
}

function repoOf(url: string): string {
  const m = /\/v2\/(.+?)\/(blobs|manifests|tags)\//.exec(new URL(url).pathname);
  return m ? m[1]! : '';
}
