// joey create: flags → create body → POST /containers/create, pulling the
// image first when the daemon does not have it (or with --pull always).
import { closeSync, existsSync, openSync, rmSync, writeSync } from 'node:fs';
import { ApiError } from '../client/client.ts';
import type { Cli } from './context.ts';
import { StatusError, displayError } from './errors.ts';
import { CONTAINER_FLAGS } from './container-flags.ts';
import { buildCreateBody, canonicalIp, checkFlags } from './container-opts.ts';
import type { CreateBody } from './container-opts.ts';
import { displayJsonMessages } from './jsonmessage.ts';
import { registryAuthHeader } from './registry-auth.ts';
import { InvalidReferenceError, familiarString, fullName, parseReferenceOrId, withDefaultTag } from '../reference/index.ts';
import type { Reference } from '../reference/index.ts';

export interface CreateOptions {
  name?: string;
  platform?: string;
  pull?: string;
  quiet?: boolean;
  [flag: string]: unknown;
}

/** The flag-level checks docker's pflag values make (usage errors). */
export function checkContainerFlags(cli: Cli, opts: Record<string, unknown>): Record<string, unknown> {
  return checkFlags(CONTAINER_FLAGS, opts, { env: cli.env, cwd: cli.cwd });
}

/** docker's withHelp: "joey: <err>\n\nRun 'joey <cmd> --help' …", exit 125. */
export function withHelp(message: string, command: string, status = 125): StatusError {
  return new StatusError(`joey: ${message}\n\nRun 'joey ${command} --help' for more information`, status);
}

export function validatePullOption(pull: string | undefined, command: string): void {
  if (pull === undefined || ['always', 'missing', 'never', ''].includes(pull)) return;
  throw withHelp(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`, command);
}

/** The flags turned into the create body; bad values end as docker's parse errors. */
export function createBodyFor(cli: Cli, image: string, args: string[], opts: Record<string, unknown>, command: string): CreateBody {
  const values = checkContainerFlags(cli, opts);
  const out = cli.io.stdout;
  try {
    return buildCreateBody(values, {
      image,
      args,
      env: cli.env,
      cwd: cli.cwd,
      consoleSize: out.isTTY ? [out.rows ?? 0, out.columns ?? 0] : [0, 0],
    });
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw withHelp((err as Error).message, command);
  }
}

/** containerd's platform normalization, for the create/pull query. */
export function normalizePlatform(p: string): string {
  const parts = p.toLowerCase().split('/');
  if (parts.length > 3 || parts.some((x) => x === '')) throw new Error(`error parsing specified platform: "${p}": cannot parse platform specifier: invalid argument`);
  const arch = (a: string) => ({ x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', i386: '386' })[a] ?? a;
  if (parts.length === 1) return `linux/${arch(parts[0]!)}`;
  const [os, a, variant] = [parts[0]!, arch(parts[1]!), parts[2]];
  if (a === 'arm64' && (variant === 'v8' || variant === '8')) return `${os}/${a}`;
  return variant ? `${os}/${a}/${variant}` : `${os}/${a}`;
}

/** docker's pullImage for create/run: progress on stderr. */
async function pullImage(cli: Cli, ref: Reference, opts: CreateOptions): Promise<void> {
  const tagged = withDefaultTag(ref);
  const res = await cli.client.stream('POST', '/images/create', {
    query: {
      fromImage: fullName(ref),
      tag: ref.digest ?? tagged.tag,
      platform: opts.platform ? opts.platform.toLowerCase() : undefined,
    },
    headers: await registryAuthHeader(cli, ref),
  });
  const write = opts.quiet ? () => {} : (s: string) => cli.err(s);
  await displayJsonMessages(res, write, { isTerminal: !opts.quiet && !!cli.io.stderr.isTTY, width: cli.io.stderr.columns });
}

/** A --cidfile that must not exist yet, removed again if no id was written. */
class CidFile {
  private fd?: number;
  private written = false;
  constructor(private readonly file: string) {
    if (!file) return;
    if (existsSync(file)) throw new StatusError(`container ID file found, make sure the other container isn't running or delete ${file}`);
    try {
      this.fd = openSync(file, 'w', 0o666);
    } catch (err) {
      throw new StatusError(`failed to create the container ID file: ${displayError(err)}`);
    }
  }
  write(id: string): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, id);
    this.written = true;
  }
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    if (!this.written) rmSync(this.file, { force: true });
  }
}

/** Creates the container (pulling as --pull says); prints warnings; gives the id. */
export async function createContainer(cli: Cli, body: CreateBody, opts: CreateOptions): Promise<string> {
  const cid = new CidFile(String(body.HostConfig.ContainerIDFile ?? ''));
  try {
    let named: Reference | undefined;
    try {
      const r = parseReferenceOrId(String(body.Image));
      if ('domain' in r) named = r;
    } catch (err) {
      if (err instanceof InvalidReferenceError) throw new StatusError(err.dockerMessage);
      throw err;
    }
    let platform: string | undefined;
    if (opts.platform) {
      try {
        platform = normalizePlatform(opts.platform);
      } catch (err) {
        throw new StatusError((err as Error).message);
      }
    }
    if (opts.pull === 'always' && named) await pullImage(cli, named, opts);
    const create = () =>
      cli.client.post<{ Id: string; Warnings?: string[] | null }>('/containers/create', {
        query: { platform, name: opts.name || undefined },
        body,
      });
    let res: { Id: string; Warnings?: string[] | null };
    try {
      res = await create();
    } catch (err) {
      const missing = err instanceof ApiError && err.status === 404 && named && (opts.pull ?? 'missing') === 'missing';
      if (!missing) throw err;
      if (!opts.quiet) cli.err(`Unable to find image '${familiarString(withDefaultTag(named!))}' locally\n`);
      await pullImage(cli, named!, opts);
      res = await create();
    }
    const warnings = [...(res.Warnings ?? [])];
    for (const dns of (body.HostConfig.Dns as string[] | undefined) ?? []) {
      const ip = canonicalIp(dns);
      if (ip && (ip === '::1' || /^127\./.test(ip))) {
        warnings.push(`Localhost DNS (${ip}) may fail in containers.`);
        break;
      }
    }
    for (const w of warnings) cli.err(`WARNING: ${w}\n`);
    cid.write(res.Id);
    return res.Id;
  } finally {
    cid.close();
  }
}

export async function runCreate(cli: Cli, image: string, args: string[], opts: CreateOptions): Promise<void> {
  validatePullOption(opts.pull, 'create');
  const body = createBodyFor(cli, image, args, opts, 'create');
  const id = await createContainer(cli, body, opts);
  cli.out(id + '\n');
}
