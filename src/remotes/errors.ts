// Turning registry answers and network failures into typed errors whose
// messages carry the registry's own words ({errors:[{code,message}]}).
import {
  canceled,
  dataLoss,
  forbidden,
  invalid,
  JoeyError,
  messageOf,
  notFound,
  unauthorized,
  unavailable,
} from '../errdefs/index.ts';
import { discard, isNetworkError, readBody, type HttpResponse } from './http.ts';

const ERROR_BODY_LIMIT = 64 * 1024;

/** "denied: requested access to the resource is denied; ..." from a
 * distribution-spec error body, or undefined when it is not one. */
export function formatRegistryErrors(body: Buffer): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const list = (parsed as { errors?: unknown })?.errors;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const parts: string[] = [];
  for (const e of list) {
    if (!e || typeof e !== 'object') continue;
    const { code, message } = e as { code?: unknown; message?: unknown };
    // Docker prints codes the same way: MANIFEST_UNKNOWN -> "manifest unknown".
    const c = typeof code === 'string' && code !== '' ? code.toLowerCase().replace(/_/g, ' ') : undefined;
    const m = typeof message === 'string' && message !== '' ? message : undefined;
    if (c && m) parts.push(`${c}: ${m}`);
    else if (c ?? m) parts.push((c ?? m)!);
  }
  return parts.length ? parts.join('; ') : undefined;
}

/** The registry's explanation of a failed answer: its error list, else a
 * short piece of the body, else the status line. Consumes the body. */
export async function errorText(res: HttpResponse): Promise<string> {
  const status = `${res.status} ${res.statusText}`.trim();
  if (res.method === 'HEAD') {
    discard(res);
    return status;
  }
  let body: Buffer;
  try {
    body = await readBody(res.body, ERROR_BODY_LIMIT);
  } catch {
    return status;
  }
  const registry = formatRegistryErrors(body);
  if (registry) return registry;
  const text = body.toString('utf8').replace(/\s+/g, ' ').trim();
  if (text && !text.startsWith('<')) return `${status}: ${text.length > 200 ? text.slice(0, 200) + '...' : text}`;
  return status;
}

export interface ErrorContext {
  /** What the caller was doing, for 401 wording. */
  action: 'pull' | 'push';
  /** The repository's familiar name ("busybox", "127.0.0.1:5000/x"). */
  name: string;
  /** What a 404 was about: "manifest for busybox:latest", "blob sha256:...". */
  subject: string;
}

/** The typed error for an HTTP answer we did not expect. */
export async function statusError(res: HttpResponse, ctx: ErrorContext): Promise<JoeyError> {
  const text = await errorText(res);
  const host = res.url.host;
  const where = `${res.method} ${res.url.href}`;
  switch (res.status) {
    case 401:
      return ctx.action === 'pull'
        ? unauthorized(`pull access denied for ${ctx.name}, repository does not exist or may require 'docker login': ${text}`)
        : unauthorized(`push access denied for ${ctx.name} on ${host}, authentication required: ${text}`);
    case 403:
      return forbidden(`${ctx.action} access to ${ctx.name} on ${host} is forbidden: ${text}`);
    case 404:
      return notFound(`${ctx.subject} not found: ${text}`);
    case 408:
    case 429:
      return unavailable(`${host} answered ${where} with ${text}`);
    default:
      if (res.status >= 500) return unavailable(`${host} answered ${where} with ${text}`);
      if (res.status === 400 && /digest invalid/.test(text)) return dataLoss(`${host} rejected ${ctx.subject}: ${text}`);
      return invalid(`${host} rejected ${where} for ${ctx.subject}: ${text}`);
  }
}

/** A network failure (or anything thrown by the transport) as a typed error
 * naming the host. JoeyErrors pass through. */
export function transportError(err: unknown, host: string): JoeyError {
  if (err instanceof JoeyError) return err;
  if ((err as { name?: string } | undefined)?.name === 'AbortError') return canceled(`request to ${host} canceled`, err);
  if (isNetworkError(err)) return unavailable(`cannot reach registry ${host}: ${messageOf(err)}`, err);
  return unavailable(`request to registry ${host} failed: ${messageOf(err)}`, err);
}
