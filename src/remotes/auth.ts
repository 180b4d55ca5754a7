// Registry authentication: WWW-Authenticate challenges, Basic, and the
// Bearer token flow of the distribution token spec (GET with basic
// credentials, or the OAuth2 POST with a refresh token), with a token cache.
import { createHash } from 'node:crypto';
import { unauthorized, unavailable } from '../errdefs/index.ts';
import type { AuthConfig } from './types.ts';
import { errorText, transportError } from './errors.ts';
import { isConnectionReset, readBody, type HttpResponse, type HttpTransport } from './http.ts';

export const CLIENT_ID = 'joey';
/** The token spec's floor: a token without expires_in lives 60 s. */
const MIN_TOKEN_LIFETIME_S = 60;
/** Renew a little early so a token does not expire in flight. */
const EXPIRY_SKEW_MS = 5_000;
const TOKEN_BODY_LIMIT = 1 << 20;

export interface Challenge {
  /** Lowercase: "bearer", "basic". */
  scheme: string;
  /** Lowercase keys: realm, service, scope, error. */
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/** Parses WWW-Authenticate (RFC 7235); several challenges may share a header. */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const s = Array.isArray(header) ? header.join(', ') : header;
  const out: Challenge[] = [];
  let cur: Challenge | undefined;
  let i = 0;
  const readToken = (): string => {
    const start = i;
    while (i < s.length && TOKEN_CHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const skipSpace = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  while (i < s.length) {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
    const token = readToken();
    if (token === '') {
      i++; // not a token character: skip it
      continue;
    }
    skipSpace();
    if (s[i] === '=' && cur) {
      i++;
      skipSpace();
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        i++; // closing quote
      } else {
        while (i < s.length && s[i] !== ',' && s[i] !== ' ') value += s[i++];
      }
      cur.params[token.toLowerCase()] = value;
    } else {
      cur = { scheme: token.toLowerCase(), params: {} };
      out.push(cur);
    }
  }
  return out;
}

export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token from an earlier login. */
  identityToken?: string;
  /** A bearer token to send as is. */
  registryToken?: string;
}

/** Credentials from a Docker AuthConfig; undefined when it carries none. */
export function credentialsFrom(auth: AuthConfig | undefined): Credentials | undefined {
  if (!auth) return undefined;
  const c: Credentials = {};
  if (auth.username) c.username = auth.username;
  if (auth.password) c.password = auth.password;
  if (!c.username && auth.auth) {
    const decoded = Buffer.from(auth.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      c.username = decoded.slice(0, colon);
      c.password = decoded.slice(colon + 1);
    }
  }
  if (auth.identitytoken) c.identityToken = auth.identitytoken;
  if (auth.registrytoken) c.registryToken = auth.registrytoken;
  return Object.keys(c).length ? c : undefined;
}

export function basicAuthorization(c: Credentials | undefined): string | undefined {
  if (!c?.username) return undefined;
  return 'Basic ' + Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64');
}

/** Distinguishes cache entries of different users without keeping secrets in keys. */
function fingerprint(c: Credentials | undefined): string {
  if (!c) return 'anonymous';
  return createHash('sha256')
    .update(`${c.username ?? ''}\0${c.password ?? ''}\0${c.identityToken ?? ''}`)
    .digest('hex')
    .slice(0, 16);
}

export interface TokenRequest {
  realm: string;
  service?: string;
  scopes: string[];
  creds?: Credentials;
  /** Ask for a refresh token too (login). */
  offline?: boolean;
  insecureTls?: boolean;
  signal?: AbortSignal;
}

export interface Token {
  token: string;
  expiresAt: number;
  refreshToken?: string;
}

/** One round trip to a token service. */
export async function fetchToken(http: HttpTransport, req: TokenRequest, now = Date.now): Promise<Token> {
  let realm: URL;
  try {
    realm = new URL(req.realm);
  } catch {
    throw unavailable(`registry sent an invalid token realm ${JSON.stringify(req.realm)}`);
  }
  if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
    throw unavailable(`registry sent a token realm with an unsupported scheme: ${req.realm}`);
  }
  const c = req.creds;
  let send: () => Promise<HttpResponse>;
  if (c?.identityToken) {
    // OAuth2 refresh-token grant, as Docker does with an identity token.
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.identityToken, client_id: CLIENT_ID });
    if (req.service) form.set('service', req.service);
    if (req.scopes.length) form.set('scope', req.scopes.join(' '));
    if (req.offline) form.set('access_type', 'offline');
    const body = Buffer.from(form.toString());
    send = () =>
      http.request({
        method: 'POST',
        url: realm,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) },
        body: () => body,
        insecureTls: req.insecureTls,
        signal: req.signal,
      });
  } else {
    const url = new URL(realm);
    if (req.service) url.searchParams.append('service', req.service);
    for (const s of req.scopes) url.searchParams.append('scope', s);
    if (c?.username) url.searchParams.append('account', c.username);
    if (req.offline) {
      url.searchParams.append('offline_token', 'true');
      url.searchParams.append('client_id', CLIENT_ID);
    }
    const headers: Record<string, string> = {};
    const basic = basicAuthorization(c);
    if (basic) headers.authorization = basic;
    send = () => http.request({ method: 'GET', url, headers, insecureTls: req.insecureTls, signal: req.signal });
  }

  let res: HttpResponse;
  try {
    try {
      res = await send();
    } catch (err) {
      if (!isConnectionReset(err)) throw err;
      res = await send(); // a keep-alive connection closed under us: once more
    }
  } catch (err) {
    throw transportError(err, `token service ${realm.host}`);
  }
  const scopes = req.scopes.length ? req.scopes.join(' ') : 'login';
  if (res.status === 401 || res.status === 403) {
    throw unauthorized(`token service ${realm.origin}${realm.pathname} refused the credentials for ${scopes} (${res.status} ${res.statusText}): ${await errorText(res)}`);
  }
  if (res.status !== 200) {
    throw unavailable(`token service ${realm.origin}${realm.pathname} answered ${res.status} for ${scopes}: ${await errorText(res)}`);
  }
  let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown; refresh_token?: unknown };
  try {
    parsed = JSON.parse((await readBody(res.body, TOKEN_BODY_LIMIT)).toString('utf8'));
  } catch (err) {
    throw unavailable(`token service ${realm.host} sent an unreadable answer: ${(err as Error).message}`, err);
  }
  const token = typeof parsed.token === 'string' && parsed.token ? parsed.token : parsed.access_token;
  if (typeof token !== 'string' || token === '') throw unavailable(`token service ${realm.host} sent no token`);
  const lifetime = typeof parsed.expires_in === 'number' && parsed.expires_in > MIN_TOKEN_LIFETIME_S ? parsed.expires_in : MIN_TOKEN_LIFETIME_S;
  const out: Token = { token, expiresAt: now() + lifetime * 1000 - EXPIRY_SKEW_MS };
  if (typeof parsed.refresh_token === 'string' && parsed.refresh_token) out.refreshToken = parsed.refresh_token;
  return out;
}

/** Bearer tokens by realm, service, scopes and user; concurrent requests
 * for the same token share one round trip. */
export class TokenCache {
  #tokens = new Map<string, Token>();
  #inflight = new Map<string, Promise<Token>>();
  readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  static key(req: Pick<TokenRequest, 'realm' | 'service' | 'scopes' | 'creds'>): string {
    return [req.realm, req.service ?? '', [...req.scopes].sort().join(' '), fingerprint(req.creds)].join('|');
  }

  async get(key: string, fetch: () => Promise<Token>): Promise<string> {
    const have = this.#tokens.get(key);
    if (have && have.expiresAt > this.now()) return have.token;
    let p = this.#inflight.get(key);
    if (!p) {
      p = fetch().finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, p);
    }
    const t = await p;
    this.#prune();
    this.#tokens.set(key, t);
    return t.token;
  }

  /** Forgets a token the registry refused. */
  invalidate(token: string): void {
    for (const [k, t] of this.#tokens) if (t.token === token) this.#tokens.delete(k);
  }

  #prune(): void {
    const now = this.now();
    for (const [k, t] of this.#tokens) if (t.expiresAt <= now) this.#tokens.delete(k);
  }
}

/** What a host asked for, remembered so later requests authenticate up front. */
interface HostAuth {
  scheme: 'basic' | 'bearer';
  realm?: string;
  service?: string;
}

/** Computes Authorization headers per host from learned challenges. */
export class Authorizer {
  #hosts = new Map<string, HostAuth>();
  readonly tokens: TokenCache;
  readonly #http: HttpTransport;
  readonly #insecureTls: (host: string) => Promise<boolean>;

  constructor(http: HttpTransport, tokens: TokenCache, insecureTls: (host: string) => Promise<boolean>) {
    this.#http = http;
    this.tokens = tokens;
    this.#insecureTls = insecureTls;
  }

  /** The Authorization header for a request to `host`, or undefined when none
   * is known to be needed yet (the first 401 teaches us). */
  async authorization(host: string, creds: Credentials | undefined, scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
    const h = this.#hosts.get(host);
    if (!h) return undefined;
    if (h.scheme === 'basic') return basicAuthorization(creds);
    const req: TokenRequest = { realm: h.realm!, scopes, signal };
    if (h.service !== undefined) req.service = h.service;
    if (creds) req.creds = creds;
    const realmHost = new URL(h.realm!).host;
    const token = await this.tokens.get(TokenCache.key(req), async () =>
      fetchToken(this.#http, { ...req, insecureTls: await this.#insecureTls(realmHost) }, this.tokens.now),
    );
    return `Bearer ${token}`;
  }

  /** Learns from a 401. Returns the scopes to ask for on the retry, or
   * undefined when a retry cannot help. */
  learn(host: string, header: string | string[] | undefined, sent: string | undefined, scopes: string[]): string[] | undefined {
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer) {
      const h: HostAuth = { scheme: 'bearer', realm: bearer.params.realm! };
      if (bearer.params.service !== undefined) h.service = bearer.params.service;
      this.#hosts.set(host, h);
      if (sent?.startsWith('Bearer ')) this.tokens.invalidate(sent.slice(7));
      // The registry may name a scope we did not ask for (a mount's source).
      const extra = (bearer.params.scope ?? '').split(' ').filter((s) => s && !scopes.includes(s));
      return [...scopes, ...extra];
    }
    if (basic) {
      this.#hosts.set(host, { scheme: 'basic' });
      return sent?.startsWith('Basic ') ? undefined : scopes;
    }
    return undefined;
  }
}
