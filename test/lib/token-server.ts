// A tiny Docker token server (the "token" auth flow of registry API v2) on
// 127.0.0.1, for a private docker-registry configured with `auth.token`.
//
// Distribution 2.8 accepts an RS256 JWT whose header carries the signing
// certificate in `x5c`, when that certificate chains to `rootcertbundle`; here
// the certificate is self-signed and is the bundle itself.
import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { runOk } from './proc.ts';

export interface User {
  username: string;
  password: string;
}

export interface TokenRequestLog {
  method: string;
  user: string | undefined; // undefined: anonymous; '!' + name: wrong password
  scopes: string[];
  granted: { type: string; name: string; actions: string[] }[];
}

export interface TokenServer {
  /** The realm URL to put in the registry's config. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM file of the signing certificate: the registry's rootcertbundle. */
  certFile: string;
  /** Every token request seen, oldest first. */
  requests: TokenRequestLog[];
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** Creates a key and self-signed certificate in `dir` with the openssl CLI and serves tokens. */
export async function startTokenServer(dir: string, users: User[], opts: { service?: string; issuer?: string } = {}): Promise<TokenServer> {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  await runOk('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3',
    '-subj', '/CN=joey-test-token-signer', '-keyout', keyFile, '-out', certFile,
  ]);
  const key = createPrivateKey(await readFile(keyFile));
  const certPem = await readFile(certFile, 'utf8');
  const certDer = certPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  const service = opts.service ?? 'joey-test-registry';
  const issuer = opts.issuer ?? 'joey-test-token-issuer';
  const requests: TokenRequestLog[] = [];

  const server = createServer((req, res) => {
    handle(req)
      .then(({ status, body }) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      })
      .catch((e: unknown) => {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: String(e) }));
      });
  });

  async function handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const url = new URL(req.url ?? '/', 'http://token');
    if (url.pathname !== '/token') return { status: 404, body: { error: 'not found' } };
    let params = url.searchParams;
    let username: string | undefined;
    let password: string | undefined;
    if (req.method === 'POST') {
      // The OAuth2 form (docker's refresh-token flow, grant_type=password).
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      params = new URLSearchParams(Buffer.concat(chunks).toString());
      if (params.get('grant_type') === 'password') {
        username = params.get('username') ?? undefined;
        password = params.get('password') ?? undefined;
      } else if (params.get('grant_type') === 'refresh_token') {
        const [u, p] = Buffer.from(params.get('refresh_token') ?? '', 'base64url').toString().split('\0');
        username = u;
        password = p;
      }
    }
    const authz = req.headers.authorization;
    if (authz?.startsWith('Basic ')) {
      const decoded = Buffer.from(authz.slice(6), 'base64').toString();
      const i = decoded.indexOf(':');
      username = decoded.slice(0, i);
      password = decoded.slice(i + 1);
    }
    const scopes = params.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    const log: TokenRequestLog = { method: req.method ?? 'GET', user: undefined, scopes, granted: [] };
    requests.push(log);
    if (username !== undefined) {
      const ok = users.some((u) => u.username === username && u.password === password);
      log.user = ok ? username : `!${username}`;
      if (!ok) return { status: 401, body: { errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] } };
    }
    // Valid users get what they ask for; anonymous callers get a token that grants nothing.
    const granted = log.user === undefined ? [] : scopes.map(parseScope).filter((s) => s !== undefined);
    log.granted = granted;
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: issuer,
      sub: log.user ?? '',
      aud: params.get('service') ?? service,
      exp: now + 600,
      nbf: now - 60,
      iat: now,
      jti: randomUUID(),
      access: granted,
    };
    const token = signJwt(key, certDer, claims);
    const body: Record<string, unknown> = { token, access_token: token, expires_in: 600, issued_at: new Date(now * 1000).toISOString() };
    if (log.user !== undefined && (params.get('offline_token') === 'true' || req.method === 'POST')) {
      body.refresh_token = b64url(`${username}\0${password}`);
    }
    return { status: 200, body };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    requests,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** "repository:a/b:pull,push" → {type, name, actions}; the name may hold colons. */
function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last <= first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

function signJwt(key: KeyObject, certDerB64: string, claims: object): string {
  const header = { typ: 'JWT', alg: 'RS256', x5c: [certDerB64] };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = sign('sha256', Buffer.from(input), key);
  return `${input}.${b64url(sig)}`;
}
