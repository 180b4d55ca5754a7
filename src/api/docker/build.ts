// POST /build: the classic builder's endpoint, which `docker build` without
// BuildKit, docker-compose 1.29 and docker-py use. The body is the context
// tar; the answer is Docker's JSON message stream ({"stream": ...},
// {"aux": {"ID": ...}}, and an errorDetail line for a failure once output has
// begun; before that, a failure is an ordinary error status, as in dockerd).
// A missing base image's pull progress goes into the same stream, pulled with
// the X-Registry-Config credentials. POST /build/prune: `docker builder prune`.
import { BuildStepError, type BuildOptions } from '../../engine/build/index.ts';
import { invalid, messageOf, notImplemented } from '../../errdefs/index.ts';
import type { AuthConfig } from '../../images/types.ts';
import { JsonLineStream, decodeBase64JsonHeader, queryBool, queryFilters, queryString, sendJson, toAuthConfig } from './http.ts';
import { progressLine } from './progress.ts';
import type { RequestContext, Router } from './router.ts';

export function registerBuildRoutes(r: Router): void {
  r.add('POST', '/build/prune', prune);
  r.add('POST', '/build', build);
}

/** X-Registry-Config: base64 (standard or URL-safe) of a JSON map from
 * registry to AuthConfig, as the docker CLI and docker-py send it. */
export function decodeRegistryConfig(header: string | string[] | undefined): Record<string, AuthConfig> | undefined {
  const v = decodeBase64JsonHeader(header, 'X-Registry-Config');
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid('invalid X-Registry-Config header: expected a JSON object');
  const out: Record<string, AuthConfig> = {};
  for (const [registry, conf] of Object.entries(v as Record<string, unknown>)) {
    const auth = toAuthConfig(conf);
    if (auth) out[registry] = auth;
  }
  return out;
}

/** A byte count parameter of /build/prune; dockerd refuses what is not an integer. */
function queryBytes(q: URLSearchParams, name: string): number | undefined {
  const raw = queryString(q, name);
  if (raw === undefined || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw invalid(`${name} is in bytes and expects an integer, got ${raw}`);
  return Number(raw);
}

async function prune({ engine, query, res }: RequestContext): Promise<void> {
  // reserved-space is API 1.48's name for keep-storage.
  const keep = queryBytes(query, 'keep-storage') ?? queryBytes(query, 'reserved-space');
  queryBytes(query, 'max-used-space');
  queryBytes(query, 'min-free-space');
  const report = await engine.build.prune({ all: queryBool(query, 'all'), filters: queryFilters(query), ...(keep !== undefined ? { keepStorage: Math.max(0, keep) } : {}) });
  sendJson(res, 200, report);
}

function jsonMap(q: URLSearchParams, name: string): Record<string, string | null> | undefined {
  const raw = queryString(q, name);
  if (raw === undefined || raw === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw invalid(`${name}: invalid JSON: ${raw.slice(0, 200)}`);
  }
  if (v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`${name} must be a JSON object`);
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x !== null && typeof x !== 'string') throw invalid(`${name}: the value of ${k} must be a string`);
  }
  return v as Record<string, string | null>;
}

async function build({ engine, query, req, res, signal }: RequestContext): Promise<void> {
  if (queryString(query, 'remote')) throw notImplemented('building from a remote context (remote=) is not supported: send the context as a tar body');
  if (queryString(query, 'version') === '2') throw notImplemented('BuildKit (version=2) is not supported by joey: use the classic builder (DOCKER_BUILDKIT=0)');
  const quiet = queryBool(query, 'q');
  const stream = new JsonLineStream(res);
  const held: string[] = [];
  const labels = jsonMap(query, 'labels');
  const opts: BuildOptions = {
    tags: query.getAll('t'),
    dockerfile: queryString(query, 'dockerfile'),
    buildArgs: jsonMap(query, 'buildargs'),
    labels: labels ? Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, v ?? ''])) : undefined,
    target: queryString(query, 'target') || undefined,
    noCache: queryBool(query, 'nocache'),
    rm: queryBool(query, 'rm', true),
    forceRm: queryBool(query, 'forcerm'),
    pull: queryBool(query, 'pull'),
    authConfigs: decodeRegistryConfig(req.headers['x-registry-config']),
    networkMode: queryString(query, 'networkmode') || undefined,
    platform: queryString(query, 'platform') || undefined,
    signal,
    onOutput: (text) => (quiet ? held.push(text) : stream.write({ stream: text })),
    onImageId: (id) => stream.write({ aux: { ID: id } }),
    onProgress: (p) => {
      if (!quiet) stream.writeLine(progressLine(p, 'pull'));
    },
  };
  try {
    const result = await engine.build.build(req, opts);
    if (quiet) stream.write({ stream: `${result.id}\n` });
    stream.end();
  } catch (err) {
    if (quiet && held.length) stream.write({ stream: held.join('') });
    if (!stream.hasStarted) throw err;
    const message = messageOf(err);
    const detail = err instanceof BuildStepError ? { code: err.exitCode, message } : { message };
    stream.writeLine(JSON.stringify({ errorDetail: detail, error: message }) + '\n');
    stream.end();
  }
}
