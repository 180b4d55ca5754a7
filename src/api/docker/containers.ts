// Container endpoints: create, list, inspect, the lifecycle verbs, logs,
// stats, top, changes, export, archive, commit, prune, resize, wait and
// attach. Each decodes the request, makes one engine call and encodes the
// answer; attach streams through hijack.ts.
import { pipeline } from 'node:stream/promises';
import type { ServerResponse } from 'node:http';
import type { PathStat, WaitResult } from '../../engine/containers/types.ts';
import type { Filters } from '../../images/types.ts';
import { invalid, messageOf, notImplemented } from '../../errdefs/index.ts';
import { decodeContainerConfig, decodeCreateRequest, decodeHostConfig } from './bodies.ts';
import { muxFrame, parseDetachKeys, streamMediaType, streamSession } from './hijack.ts';
import { decodeRegistryAuth, JsonLineStream, queryBool, queryFilters, queryInt, queryString, queryTimestamp, readJson, sendEmpty, sendJson } from './http.ts';
import type { RequestContext, Router } from './router.ts';

export function registerContainerRoutes(r: Router): void {
  // Fixed paths first: a container may be named like one of them.
  r.add('POST', '/containers/create', create);
  r.add('GET', '/containers/json', list);
  r.add('POST', '/containers/prune', prune);
  r.add('POST', '/commit', commit);
  r.add('GET', '/containers/{id}/json', inspect);
  r.add('GET', '/containers/{id}/top', top);
  r.add('GET', '/containers/{id}/logs', logs);
  r.add('GET', '/containers/{id}/stats', stats);
  r.add('GET', '/containers/{id}/changes', changes);
  r.add('GET', '/containers/{id}/export', exportFs);
  r.add('POST', '/containers/{id}/start', start);
  r.add('POST', '/containers/{id}/stop', stop);
  r.add('POST', '/containers/{id}/restart', restart);
  r.add('POST', '/containers/{id}/kill', kill);
  r.add('POST', '/containers/{id}/pause', pause);
  r.add('POST', '/containers/{id}/unpause', unpause);
  r.add('POST', '/containers/{id}/rename', rename);
  r.add('POST', '/containers/{id}/update', update);
  r.add('POST', '/containers/{id}/wait', wait);
  r.add('POST', '/containers/{id}/resize', resize);
  r.add('POST', '/containers/{id}/attach', attach);
  r.add('POST', '/containers/{id}/upgrade', upgrade);
  r.add('GET', '/containers/{id}/attach/ws', () => {
    throw notImplemented('attaching over a websocket is not supported: use POST /containers/{id}/attach');
  });
  r.add('HEAD', '/containers/{id}/archive', archiveStat);
  r.add('GET', '/containers/{id}/archive', archiveGet);
  r.add('PUT', '/containers/{id}/archive', archivePut);
  // {id*}: `docker rm --link client/alias` names a link with a slash.
  r.add('DELETE', '/containers/{id*}', remove);
}

const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** A container name as given to create or rename, without its leading '/'. */
function containerName(name: string): string {
  if (!VALID_NAME.test(name)) throw invalid(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.startsWith('/') ? name.slice(1) : name;
}

async function create({ engine, query, req, res }: RequestContext): Promise<void> {
  const rawName = queryString(query, 'name');
  const name = rawName === undefined ? undefined : containerName(rawName);
  const body = decodeCreateRequest(await readJson(req));
  const created = await engine.containers.create(body, { name, platform: queryString(query, 'platform') });
  sendJson(res, 201, { Id: created.Id, Warnings: created.Warnings ?? [] });
}

async function list({ engine, query, res }: RequestContext): Promise<void> {
  let filters: Filters | undefined = queryFilters(query);
  // Older clients (docker-py among them) send these as parameters.
  for (const key of ['since', 'before']) {
    const v = queryString(query, key);
    if (v !== undefined) filters = { ...filters, [key]: [...(filters?.[key] ?? []), v] };
  }
  // docker-py sends limit=-1 for "no limit"; dockerd applies only limit > 0.
  const limit = queryInt(query, 'limit');
  queryBool(query, 'trunc_cmd'); // validated; docker-py sends it, the API never truncated
  const containers = await engine.containers.list({
    all: queryBool(query, 'all'),
    limit: limit !== undefined && limit > 0 ? limit : undefined,
    size: queryBool(query, 'size'),
    filters,
  });
  sendJson(res, 200, containers);
}

async function inspect({ engine, params, query, res }: RequestContext): Promise<void> {
  sendJson(res, 200, await engine.containers.inspect(params.id!, { size: queryBool(query, 'size') }));
}

async function top({ engine, params, query, res }: RequestContext): Promise<void> {
  sendJson(res, 200, await engine.containers.top(params.id!, queryString(query, 'ps_args')));
}

async function logs({ engine, params, query, res, signal, apiVersion }: RequestContext): Promise<void> {
  const stdout = queryBool(query, 'stdout');
  const stderr = queryBool(query, 'stderr');
  if (!stdout && !stderr) throw invalid('Bad parameters: you must choose at least one stream');
  const since = queryTimestamp(query, 'since');
  const until = queryTimestamp(query, 'until');
  const timestamps = queryBool(query, 'timestamps');
  const result = await engine.containers.logs(params.id!, {
    follow: queryBool(query, 'follow'),
    stdout,
    stderr,
    since,
    until,
    timestamps,
    tail: queryTail(query),
    signal,
  });
  res.statusCode = 200;
  res.setHeader('Content-Type', streamMediaType(result.tty, apiVersion));
  // At once: `docker logs -f` waits for the headers before showing anything.
  res.flushHeaders();
  for await (const entry of result.entries) {
    if (res.destroyed) break;
    const data = timestamps ? Buffer.concat([Buffer.from(entry.time + ' '), entry.data]) : entry.data;
    if (!res.write(result.tty ? data : muxFrame(entry.stream, data))) await drained(res);
  }
  res.end();
}

function queryTail(query: URLSearchParams): number | 'all' | undefined {
  const raw = queryString(query, 'tail');
  if (raw === undefined) return undefined;
  if (raw === 'all') return 'all';
  return queryInt(query, 'tail', { min: 0 });
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function stats({ engine, params, query, res, signal }: RequestContext): Promise<void> {
  const stream = queryBool(query, 'stream', true);
  const oneShot = queryBool(query, 'one-shot');
  if (stream && oneShot) throw invalid('cannot have stream=true and one-shot=true');
  const out = new JsonLineStream(res);
  // An error before the first object (no such container) keeps its status.
  for await (const s of engine.containers.stats(params.id!, { stream, oneShot, signal })) {
    if (res.destroyed) break;
    out.write(s);
  }
  out.end();
}

async function changes({ engine, params, res }: RequestContext): Promise<void> {
  sendJson(res, 200, await engine.containers.changes(params.id!));
}

async function exportFs({ engine, params, res }: RequestContext): Promise<void> {
  const tar = await engine.containers.export(params.id!);
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/x-tar');
  await pipeline(tar, res);
}

async function start({ engine, params, res }: RequestContext): Promise<void> {
  sendEmpty(res, (await engine.containers.start(params.id!)) ? 204 : 304);
}

function stopOptions(query: URLSearchParams): { timeout?: number; signal?: string } {
  const opts: { timeout?: number; signal?: string } = {};
  const t = queryInt(query, 't');
  const signal = queryString(query, 'signal');
  if (t !== undefined) opts.timeout = t;
  if (signal !== undefined) opts.signal = signal;
  return opts;
}

async function stop({ engine, params, query, res }: RequestContext): Promise<void> {
  sendEmpty(res, (await engine.containers.stop(params.id!, stopOptions(query))) ? 204 : 304);
}

async function restart({ engine, params, query, res }: RequestContext): Promise<void> {
  await engine.containers.restart(params.id!, stopOptions(query));
  sendEmpty(res, 204);
}

async function kill({ engine, params, query, res }: RequestContext): Promise<void> {
  await engine.containers.kill(params.id!, queryString(query, 'signal'));
  sendEmpty(res, 204);
}

async function pause({ engine, params, res }: RequestContext): Promise<void> {
  await engine.containers.pause(params.id!);
  sendEmpty(res, 204);
}

async function unpause({ engine, params, res }: RequestContext): Promise<void> {
  await engine.containers.unpause(params.id!);
  sendEmpty(res, 204);
}

async function rename({ engine, params, query, res }: RequestContext): Promise<void> {
  const name = queryString(query, 'name');
  if (name === undefined) throw invalid('name is required');
  await engine.containers.rename(params.id!, containerName(name));
  sendEmpty(res, 204);
}

async function update({ engine, params, req, res }: RequestContext): Promise<void> {
  const body = decodeHostConfig(await readJson(req));
  const result = await engine.containers.update(params.id!, body);
  sendJson(res, 200, { Warnings: result.Warnings ?? [] });
}

const WAIT_CONDITIONS = ['not-running', 'next-exit', 'removed'] as const;

async function wait({ engine, params, query, res, signal }: RequestContext): Promise<void> {
  const raw = queryString(query, 'condition');
  const condition = WAIT_CONDITIONS.find((c) => c === raw);
  if (raw !== undefined && condition === undefined) throw invalid(`invalid condition: ${JSON.stringify(raw)}: expected one of ${WAIT_CONDITIONS.join(', ')}`);
  const result = engine.containers.wait(params.id!, condition ? { condition, signal } : { signal });
  // What the engine refuses at once (no such container) keeps its status.
  // Otherwise the 200 goes out now: `docker run` waits for it before it
  // starts the container, and the body follows when the wait ends.
  const settled = await Promise.race([result.then(() => true, () => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);
  if (settled) return sendJson(res, 200, await result);
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json');
  res.flushHeaders();
  let body: WaitResult;
  try {
    body = await result;
  } catch (err) {
    body = { StatusCode: -1, Error: { Message: messageOf(err) } };
  }
  if (!res.destroyed) res.end(JSON.stringify(body) + '\n');
}

async function resize({ engine, params, query, res }: RequestContext): Promise<void> {
  const h = queryInt(query, 'h', { min: 0 });
  const w = queryInt(query, 'w', { min: 0 });
  if (h === undefined || w === undefined) throw invalid('h and w are required');
  await engine.containers.resize(params.id!, h, w);
  sendEmpty(res, 200);
}

async function attach(ctx: RequestContext): Promise<void> {
  const { engine, params, query } = ctx;
  const keysSpec = queryString(query, 'detachKeys');
  const detachKeys = parseDetachKeys(keysSpec);
  const stdin = queryBool(query, 'stdin');
  const session = await engine.containers.attach(params.id!, {
    stdin,
    stdout: queryBool(query, 'stdout'),
    stderr: queryBool(query, 'stderr'),
    stream: queryBool(query, 'stream'),
    logs: queryBool(query, 'logs'),
    detachKeys: keysSpec,
  });
  await streamSession(ctx, session, { stdin, detachKeys });
}

async function remove({ engine, params, query, res }: RequestContext): Promise<void> {
  await engine.containers.remove(params.id!, { force: queryBool(query, 'force'), volumes: queryBool(query, 'v'), link: queryBool(query, 'link') });
  sendEmpty(res, 204);
}

async function prune({ engine, query, res }: RequestContext): Promise<void> {
  sendJson(res, 200, await engine.containers.prune(queryFilters(query)));
}

async function commit({ engine, query, req, res }: RequestContext): Promise<void> {
  const container = queryString(query, 'container');
  if (container === undefined) throw invalid('container is required');
  const config = decodeContainerConfig(await readJson(req));
  const result = await engine.containers.commit({
    container,
    repo: queryString(query, 'repo'),
    tag: queryString(query, 'tag'),
    comment: queryString(query, 'comment'),
    author: queryString(query, 'author'),
    pause: queryBool(query, 'pause', true),
    changes: query.getAll('changes').filter((c) => c !== ''),
    config,
  });
  sendJson(res, 201, { Id: result.Id });
}

/** joey (PouchContainer's endpoint): the body is { Image, Cmd, Entrypoint,
 * KeepRootfs, RollbackWindow }; it answers once the upgrade is committed. */
async function upgrade({ engine, params, req, res, signal }: RequestContext): Promise<void> {
  const auth = decodeRegistryAuth(req.headers['x-registry-auth']);
  const result = await engine.containers.upgrade(params.id!, await readJson(req), { auth, signal });
  sendJson(res, 200, result);
}

function archivePath(query: URLSearchParams): string {
  const path = queryString(query, 'path');
  if (path === undefined) throw invalid('path is required');
  return path;
}

/** X-Docker-Container-Path-Stat: base64 of the JSON stat, as `docker cp` reads it. */
function setPathStat(res: ServerResponse, stat: PathStat): void {
  const json = JSON.stringify({ name: stat.name, size: stat.size, mode: stat.mode, mtime: stat.mtime, linkTarget: stat.linkTarget });
  res.setHeader('X-Docker-Container-Path-Stat', Buffer.from(json).toString('base64'));
}

async function archiveStat({ engine, params, query, res }: RequestContext): Promise<void> {
  setPathStat(res, await engine.containers.archiveStat(params.id!, archivePath(query)));
  res.statusCode = 200;
  res.end();
}

async function archiveGet({ engine, params, query, res }: RequestContext): Promise<void> {
  const { stat, tar } = await engine.containers.archiveGet(params.id!, archivePath(query));
  setPathStat(res, stat);
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/x-tar');
  await pipeline(tar, res);
}

async function archivePut({ engine, params, query, req, res }: RequestContext): Promise<void> {
  const path = archivePath(query);
  await engine.containers.archivePut(params.id!, path, req, {
    noOverwriteDirNonDir: queryBool(query, 'noOverwriteDirNonDir'),
    copyUIDGID: queryBool(query, 'copyUIDGID'),
  });
  sendEmpty(res, 200);
}
