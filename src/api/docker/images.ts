// Image endpoints: pull/import, list, inspect, history, tag, remove, prune,
// save, load, push. Each decodes the request, makes one engine call and
// encodes the answer; progress goes out as Docker's JSON lines.
import { pipeline } from 'node:stream/promises';
import type { Filters, Progress } from '../../images/types.ts';
import { invalid, JoeyError, notImplemented } from '../../errdefs/index.ts';
import { decodeRegistryAuth, JsonLineStream, queryBool, queryFilters, queryString, readJson, sendJson, toAuthConfig } from './http.ts';
import { progressLine } from './progress.ts';
import type { RequestContext, Router } from './router.ts';

export function registerImageRoutes(r: Router): void {
  // Fixed paths first: an image may be named like one of them.
  r.add('POST', '/images/create', create);
  r.add('GET', '/images/json', list);
  r.add('POST', '/images/prune', prune);
  r.add('GET', '/images/get', saveMany);
  r.add('POST', '/images/load', load);
  r.add('GET', '/images/{name*}/json', inspect);
  r.add('GET', '/images/{name*}/history', history);
  r.add('GET', '/images/{name*}/get', saveOne);
  r.add('POST', '/images/{name*}/tag', tag);
  r.add('POST', '/images/{name*}/push', push);
  r.add('DELETE', '/images/{name*}', remove);
}

async function create(ctx: RequestContext): Promise<void> {
  const fromImage = queryString(ctx.query, 'fromImage');
  const fromSrc = queryString(ctx.query, 'fromSrc');
  if (fromImage !== undefined) return pull(ctx, fromImage);
  if (fromSrc === '-') return importImage(ctx);
  if (fromSrc !== undefined) {
    throw notImplemented('importing from a URL (fromSrc=<url>) is not supported: download the tarball and send it as the request body with fromSrc=-');
  }
  throw invalid('fromImage or fromSrc is required');
}

async function pull({ engine, query, req, res, signal }: RequestContext, fromImage: string): Promise<void> {
  const reference = pullReference(fromImage, queryString(query, 'tag'));
  const auth = decodeRegistryAuth(req.headers['x-registry-auth']);
  const stream = new JsonLineStream(res);
  // The engine may say the closing lines itself; write them only if it did not.
  let saidDigest = false;
  let saidStatus = false;
  const onProgress = (p: Progress): void => {
    if (p.kind === 'message') {
      saidDigest ||= p.text.startsWith('Digest: ');
      saidStatus ||= p.text.startsWith('Status: ');
    }
    stream.writeLine(progressLine(p, 'pull'));
  };
  try {
    const result = await engine.images.pull(reference, { platform: queryString(query, 'platform'), auth, signal, onProgress });
    if (!saidDigest && result.digest) stream.write({ status: `Digest: ${result.digest}` });
    if (!saidStatus) {
      const name = familiarName(result.name);
      stream.write({ status: result.downloaded ? `Status: Downloaded newer image for ${name}` : `Status: Image is up to date for ${name}` });
    }
    stream.end();
  } catch (err) {
    stream.fail(abortReason(err, signal));
  }
}

async function importImage({ engine, query, req, res }: RequestContext): Promise<void> {
  const id = await engine.images.import(req, {
    repo: queryString(query, 'repo'),
    tag: queryString(query, 'tag'),
    message: queryString(query, 'message'),
    changes: query.getAll('changes').filter((c) => c !== ''),
    platform: queryString(query, 'platform'),
  });
  const stream = new JsonLineStream(res);
  stream.write({ status: id });
  stream.end();
}

async function list({ engine, query, res }: RequestContext): Promise<void> {
  let filters: Filters | undefined = queryFilters(query);
  // API < 1.41 clients send a reference pattern as `filter`.
  const legacy = queryString(query, 'filter');
  if (legacy !== undefined) filters = { ...filters, reference: [...(filters?.reference ?? []), legacy] };
  const images = await engine.images.list({ all: queryBool(query, 'all'), filters, digests: queryBool(query, 'digests') });
  queryBool(query, 'shared-size'); // validated; the engine always computes SharedSize
  sendJson(res, 200, images);
}

async function inspect({ engine, params, res }: RequestContext): Promise<void> {
  sendJson(res, 200, await engine.images.inspect(params.name!));
}

async function history({ engine, params, res }: RequestContext): Promise<void> {
  sendJson(res, 200, await engine.images.history(params.name!));
}

async function tag({ engine, params, query, res }: RequestContext): Promise<void> {
  const repo = queryString(query, 'repo');
  if (repo === undefined) throw invalid('repo is required');
  await engine.images.tag(params.name!, repo, queryString(query, 'tag'));
  res.statusCode = 201;
  res.setHeader('Content-Length', 0);
  res.end();
}

async function remove({ engine, params, query, res }: RequestContext): Promise<void> {
  const items = await engine.images.remove(params.name!, { force: queryBool(query, 'force'), noprune: queryBool(query, 'noprune') });
  sendJson(res, 200, items);
}

async function prune({ engine, query, res }: RequestContext): Promise<void> {
  sendJson(res, 200, await engine.images.prune(queryFilters(query)));
}

function saveOne(ctx: RequestContext): Promise<void> {
  return save(ctx, [ctx.params.name!]);
}

function saveMany(ctx: RequestContext): Promise<void> {
  const names = ctx.query.getAll('names').filter((n) => n !== '');
  if (names.length === 0) throw invalid('names is required: give at least one image');
  return save(ctx, names);
}

async function save({ engine, res }: RequestContext, names: string[]): Promise<void> {
  const tar = await engine.images.save(names);
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/x-tar');
  // A failure mid-stream can only be told by cutting the connection, which
  // the client sees as a truncated archive.
  await pipeline(tar, res);
}

async function load({ engine, query, req, res, signal }: RequestContext): Promise<void> {
  const quiet = queryBool(query, 'quiet');
  const stream = new JsonLineStream(res);
  try {
    const loaded = await engine.images.load(req, {
      signal,
      onProgress: quiet ? undefined : (p) => stream.writeLine(progressLine(p, 'load')),
    });
    for (const name of loaded) {
      stream.write({ stream: name.startsWith('sha256:') ? `Loaded image ID: ${name}\n` : `Loaded image: ${name}\n` });
    }
    stream.end();
  } catch (err) {
    stream.fail(abortReason(err, signal));
  }
}

async function push({ engine, params, query, req, res, signal }: RequestContext): Promise<void> {
  let auth = decodeRegistryAuth(req.headers['x-registry-auth']);
  // Old clients sent the credentials as the body instead of the header.
  if (auth === undefined && req.headers['x-registry-auth'] === undefined) auth = toAuthConfig(await readJson(req));
  const stream = new JsonLineStream(res);
  let saidDigest = false;
  let saidAux = false;
  const onProgress = (p: Progress): void => {
    saidAux ||= p.kind === 'aux';
    saidDigest ||= p.kind === 'message' && / digest: \S+ size: \d+$/.test(p.text);
    stream.writeLine(progressLine(p, 'push'));
  };
  try {
    const result = await engine.images.push(params.name!, { tag: queryString(query, 'tag'), auth, signal, onProgress });
    if (!saidDigest) stream.write({ status: `${result.tag}: digest: ${result.digest} size: ${result.size}` });
    if (!saidAux) stream.write({ progressDetail: {}, aux: { Tag: result.tag, Digest: result.digest, Size: result.size } });
    stream.end();
  } catch (err) {
    stream.fail(abortReason(err, signal));
  }
}

/** The reference to pull from the fromImage and tag parameters. The tag may
 * be a digest (the CLI sends `docker pull x@sha256:…` that way) and replaces
 * any tag or digest already in fromImage, as dockerd does. */
export function pullReference(fromImage: string, tag: string | undefined): string {
  if (tag === undefined) return fromImage;
  let name = fromImage;
  const at = name.indexOf('@');
  if (at >= 0) name = name.slice(0, at);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) name = name.slice(0, colon);
  return tag.includes(':') ? `${name}@${tag}` : `${name}:${tag}`;
}

/** docker.io/library/busybox:latest → busybox:latest, as dockerd prints names. */
export function familiarName(name: string): string {
  if (name.startsWith('docker.io/library/') && !name.slice('docker.io/library/'.length).includes('/')) {
    return name.slice('docker.io/library/'.length);
  }
  if (name.startsWith('docker.io/')) return name.slice('docker.io/'.length);
  return name;
}

/** When our own signal aborted the operation, its reason (e.g. "daemon is
 * shutting down") says more than the engine's generic AbortError. */
function abortReason(err: unknown, signal: AbortSignal): unknown {
  return signal.aborted && signal.reason instanceof JoeyError ? signal.reason : err;
}
