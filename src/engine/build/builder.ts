// The classic Dockerfile builder: one step per instruction, each step an
// image. RUN runs in a container of the current image (create, attach,
// start, wait) whose changes are committed as a layer; COPY/ADD write into
// a container's rootfs view and commit it; the other instructions change
// only the config (an empty_layer history entry). Steps found in the cache
// are reused.
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { extractInto } from '../../archive/extract-tree.ts';
import { copyBetween } from '../../archive/copy.ts';
import { joinTree, ScopedRoot, type DirRef } from '../../archive/scoped-root.ts';
import type { FileDigests } from '../../archive/writer.ts';
import { canceled, invalid, is, JoeyError, notFound, notImplemented } from '../../errdefs/index.ts';
import { commitImage } from '../../images/commit.ts';
import type { ImageContext } from '../../images/context.ts';
import { imageConfig } from '../../images/query.ts';
import type { ImageConfig, ImageService } from '../../images/types.ts';
import { familiarName, familiarString, parseReference, withDefaultTag } from '../../reference/index.ts';
import { resolveUserFrom } from '../../runtime/spec/user.ts';
import { log } from '../../util/log.ts';
import { commitUpperDir } from '../containers/commit.ts';
import type { ContainerContext } from '../containers/context.ts';
import { openReadView, openWriteView } from '../containers/fs-view.ts';
import type { ContainerService, CreateRequest } from '../containers/types.ts';
import { ARCHIVE_MAGIC_BYTES, isTarFile } from './archive-kind.ts';
import { BuildCache } from './cache.ts';
import { pruneBuildCache, type BuildCachePruneOptions, type BuildCachePruneReport } from './prune.ts';
import { authForImage } from './registry-auth.ts';
import { receiveContext, type BuildContext } from './context-dir.ts';
import { checkSourceCount, resolveDest, targetPath, type Dest } from './copy-dest.ts';
import { checkFlags, parseDockerfile, parseError, parseInstruction, type Instruction } from './dockerfile.ts';
import { compileGlob } from './dockerignore.ts';
import { keyValues, processWord, processWords, splitRawWords, type Lookup } from './shell-words.ts';
import { BuildStepError, type BuildOptions, type BuildResult, type BuildService } from './types.ts';

export interface BuildDeps {
  cx: ContainerContext;
  containers: ContainerService;
  images: ImageService;
  imageCtx: ImageContext;
  /** Where contexts are unpacked while a build runs. */
  contextRoot: string;
  cache: BuildCache;
}

/** Build args that need no ARG (Docker's predefined proxy args). */
const PREDEFINED_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);
const DEFAULT_SHELL = ['/bin/sh', '-c'];
const short = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

interface Stage {
  index: number;
  name?: string;
  /** Undefined: FROM scratch with nothing yet. */
  imageId?: string;
  config: ImageConfig;
  author?: string;
  /** ARGs declared in this stage and their values. */
  args: Map<string, string>;
  cmdSet: boolean;
}

export class Builder implements BuildService {
  constructor(private readonly deps: BuildDeps) {}

  prune(opts?: BuildCachePruneOptions): Promise<BuildCachePruneReport> {
    return pruneBuildCache(opts);
  }

  async build(input: Readable, opts: BuildOptions = {}): Promise<BuildResult> {
    const tags = (opts.tags ?? []).filter((t) => t !== '').map((t) => {
      const ref = withDefaultTag(parseReference(t));
      if (ref.digest !== undefined) throw invalid(`invalid tag ${JSON.stringify(t)}: a digest cannot be a tag`);
      return ref;
    });
    if (opts.platform && !/^linux\/(amd64|x86_64)$/.test(opts.platform)) {
      throw invalid(`platform ${opts.platform} is not supported: joey builds for linux/amd64 only`);
    }
    const dockerfile = opts.dockerfile || 'Dockerfile';
    const ctx = await receiveContext(this.deps.contextRoot, input, [dockerfile]);
    try {
      const run = new BuildRun(this.deps, opts, ctx);
      const id = await run.run(dockerfile);
      const names: string[] = [];
      for (const ref of tags) {
        await this.deps.images.tag(id, familiarName(ref), ref.tag);
        names.push(`${familiarName(ref)}:${ref.tag}`);
      }
      opts.onImageId?.(id);
      run.say(`Successfully built ${short(id)}\n`);
      for (const n of names) run.say(`Successfully tagged ${n}\n`);
      return { id, tags: names };
    } finally {
      await ctx.close();
    }
  }
}

class BuildRun {
  private readonly buildArgs: Map<string, string>;
  private readonly usedArgs = new Set<string>();
  private readonly globalArgs = new Map<string, string>();
  private readonly stages: Stage[] = [];
  private stage!: Stage;
  private escape = '\\';
  private step = 0;
  private total = 0;
  /** Containers of failed RUNs, removed at the end only with forceRm. */
  private readonly leftContainers: string[] = [];

  constructor(
    private readonly deps: BuildDeps,
    private readonly opts: BuildOptions,
    private readonly ctx: BuildContext,
  ) {
    this.buildArgs = new Map(Object.entries(opts.buildArgs ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }

  say(text: string): void {
    this.opts.onOutput?.(text);
  }

  private checkAborted(): void {
    const s = this.opts.signal;
    if (s?.aborted) throw s.reason instanceof JoeyError ? s.reason : canceled('the build was canceled');
  }

  async run(dockerfilePath: string): Promise<string> {
    const text = await this.ctx.root.readFile(posix.join('/', dockerfilePath), 4 << 20).catch(() => undefined);
    if (!text) throw notFound(`Cannot locate specified Dockerfile: ${dockerfilePath}`);
    const df = parseDockerfile(text.toString('utf8'));
    this.escape = df.escape;
    for (const w of df.warnings) this.say(`${w}\n`);
    const all = df.instructions;
    for (const inst of all) checkFlags(inst);
    if (all.length === 0) throw invalid('the Dockerfile (' + dockerfilePath + ') cannot be empty');
    const firstFrom = all.findIndex((i) => i.cmd === 'FROM');
    for (const inst of all.slice(0, firstFrom < 0 ? all.length : firstFrom)) {
      if (inst.cmd !== 'ARG') throw parseError(inst.line, `${inst.cmd} before any FROM: no build stage in current context`);
    }
    if (firstFrom < 0) throw invalid('no build stage in the Dockerfile: it needs a FROM');
    // The instructions up to the end of the target stage.
    let end = all.length;
    if (this.opts.target) {
      const want = this.opts.target.toLowerCase();
      const at = all.findIndex((i) => i.cmd === 'FROM' && stageName(i)?.toLowerCase() === want);
      if (at < 0) throw invalid(`failed to reach build target ${this.opts.target} in Dockerfile`);
      const next = all.findIndex((i, k) => k > at && i.cmd === 'FROM');
      end = next < 0 ? all.length : next;
    }
    const steps = all.slice(0, end);
    const labels = Object.entries(this.opts.labels ?? {});
    if (labels.length) {
      const quote = (x: string): string => (x === '' || /[\s"'\\$`]/.test(x) ? JSON.stringify(x).replace(/\$/g, '\\$') : x);
      const line = 'LABEL ' + labels.map(([k, v]) => `${quote(k)}=${quote(v)}`).join(' ');
      steps.push(parseInstruction(line, 0));
    }
    this.total = steps.length;
    try {
      for (const inst of steps) {
        this.checkAborted();
        this.say(`Step ${++this.step}/${this.total} : ${inst.original}\n`);
        if (!this.stage && inst.cmd === 'ARG') {
          this.globalArg(inst);
          continue;
        }
        await this.dispatch(inst, false);
      }
      const unused = [...this.buildArgs.keys()].filter((k) => !this.usedArgs.has(k) && !PREDEFINED_ARGS.has(k)).sort();
      if (unused.length) this.say(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
      return await this.ensureImage(this.stage);
    } finally {
      if (this.opts.forceRm) for (const id of this.leftContainers) await this.removeContainer(id);
    }
  }

  // ---- variables ---------------------------------------------------------

  private lookup(stage: Stage | undefined): Lookup {
    if (!stage) return (name) => this.globalArgs.get(name);
    return (name) => {
      for (const e of stage.config.Env ?? []) {
        const eq = e.indexOf('=');
        if (e.slice(0, eq) === name) return e.slice(eq + 1);
      }
      return stage.args.get(name);
    };
  }

  private word(s: string): string {
    return processWord(s, this.lookup(this.stage), this.escape);
  }

  private globalArg(inst: Instruction): void {
    for (const [name, dflt] of this.argPairs(inst, undefined)) {
      this.usedArgs.add(name);
      const v = this.buildArgs.get(name) ?? dflt;
      if (v !== undefined) this.globalArgs.set(name, v);
    }
  }

  private argPairs(inst: Instruction, stage: Stage | undefined): Array<[string, string | undefined]> {
    const lookup = this.lookup(stage);
    return splitRawWords(inst.args, this.escape).map((w) => {
      const eq = w.indexOf('=');
      if (eq === 0) throw parseError(inst.line, `ARG names can not be blank`);
      if (eq < 0) return [processWord(w, lookup, this.escape), undefined];
      return [processWord(w.slice(0, eq), lookup, this.escape), processWord(w.slice(eq + 1), lookup, this.escape)];
    });
  }

  // ---- dispatch ------------------------------------------------------------

  private async dispatch(inst: Instruction, trigger: boolean): Promise<void> {
    if (!this.stage && inst.cmd !== 'FROM') throw parseError(inst.line, 'no build stage in current context');
    switch (inst.cmd) {
      case 'FROM':
        return this.from(inst);
      case 'RUN':
        return this.runStep(inst);
      case 'COPY':
      case 'ADD':
        return this.copy(inst);
      case 'WORKDIR':
        return this.workdir(inst);
      case 'ONBUILD': {
        if (trigger) throw parseError(inst.line, 'ONBUILD ONBUILD is not allowed');
        const inner = parseInstruction(inst.args, inst.line);
        if (inner.cmd === 'ONBUILD' || inner.cmd === 'FROM' || inner.cmd === 'MAINTAINER') throw parseError(inst.line, `${inner.cmd} isn't allowed as an ONBUILD trigger`);
        const text = inner.original.replace(/^\S+/, inner.cmd);
        return this.meta(`ONBUILD ${text}`, (c) => {
          c.OnBuild = [...(c.OnBuild ?? []), text];
        });
      }
      default:
        return this.metaInstruction(inst);
    }
  }

  private async from(inst: Instruction): Promise<void> {
    const globals = this.lookup(undefined);
    const words = processWordsRaw(inst.args);
    if (words.length !== 1 && !(words.length === 3 && words[1]!.toLowerCase() === 'as')) {
      throw parseError(inst.line, 'FROM requires either one or three arguments');
    }
    const platform = inst.flags.platform ? processWord(inst.flags.platform, globals, this.escape) : '';
    if (platform && !/^linux\/(amd64|x86_64)$/.test(platform)) throw invalid(`FROM --platform=${platform}: joey builds for linux/amd64 only`);
    const base = processWord(words[0]!, globals, this.escape);
    if (base === '') throw parseError(inst.line, 'FROM: base name should not be blank');
    const name = words[2]?.toLowerCase();
    if (name !== undefined && !/^[a-z][a-z0-9-_.]*$/.test(name)) throw parseError(inst.line, `invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`);
    const stage: Stage = { index: this.stages.length, name, config: {}, args: new Map(), cmdSet: false };
    const prev = this.stages.find((s) => s.name !== undefined && s.name === base.toLowerCase());
    if (prev) {
      stage.imageId = await this.ensureImage(prev);
      stage.config = structuredClone(prev.config);
    } else if (base.toLowerCase() === 'scratch') {
      stage.config = {};
    } else {
      stage.imageId = await this.baseImage(base);
      stage.config = structuredClone((await imageConfig(this.deps.imageCtx, stage.imageId)).config ?? {});
    }
    this.stages.push(stage);
    this.stage = stage;
    if (stage.imageId) this.say(` ---> ${short(stage.imageId)}\n`);
    const triggers = stage.config.OnBuild ?? [];
    if (triggers.length) {
      this.say(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      stage.config.OnBuild = [];
      for (const t of triggers) {
        const trigger = parseInstruction(t, inst.line);
        // A base image's triggers are checked as the Dockerfile's own lines are.
        checkFlags(trigger);
        await this.dispatch(trigger, true);
      }
    }
  }

  private async baseImage(name: string): Promise<string> {
    const local = async (): Promise<string | undefined> => {
      try {
        return await this.deps.images.resolveId(name);
      } catch (err) {
        if (is(err, 'not-found')) return undefined;
        throw err;
      }
    };
    if (!this.opts.pull) {
      const id = await local();
      if (id) return id;
    }
    // The pull's own progress goes into the build's stream, closed with
    // the Digest and Status lines, as dockerd's classic builder relays it.
    let saidDigest = false;
    let saidStatus = false;
    const onProgress = this.opts.onProgress;
    const r = await this.deps.images.pull(name, {
      platform: 'linux/amd64',
      signal: this.opts.signal,
      auth: authForImage(this.opts.authConfigs, name),
      onProgress: (p) => {
        if (p.kind === 'message') {
          saidDigest ||= p.text.startsWith('Digest: ');
          saidStatus ||= p.text.startsWith('Status: ');
        }
        onProgress?.(p);
      },
    });
    if (!saidDigest && r.digest) onProgress?.({ kind: 'message', text: `Digest: ${r.digest}` });
    if (!saidStatus) {
      const shown = familiarString(parseReference(r.name));
      onProgress?.({ kind: 'message', text: r.downloaded ? `Status: Downloaded newer image for ${shown}` : `Status: Image is up to date for ${shown}` });
    }
    return r.id;
  }

  /** The stage's image, made (empty) for a scratch stage with nothing yet:
   * only when a step has to run (the cache knows such a stage as ''). */
  private async ensureImage(stage: Stage): Promise<string> {
    if (!stage.imageId) stage.imageId = await commitImage(this.deps.imageCtx, { config: stage.config, createdBy: '', tags: [] });
    return stage.imageId;
  }

  // ---- metadata ------------------------------------------------------------

  private async metaInstruction(inst: Instruction): Promise<void> {
    const args = inst.args;
    const shellForm = (): string[] => [...(this.stage.config.Shell ?? DEFAULT_SHELL), args];
    switch (inst.cmd) {
      case 'ENV': {
        const pairs = keyValues(args, this.lookup(this.stage), this.escape, 'ENV', true);
        return this.meta(`ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`, (c) => {
          const env = [...(c.Env ?? [])];
          for (const [k, v] of pairs) {
            const i = env.findIndex((e) => e.split('=')[0] === k);
            if (i >= 0) env[i] = `${k}=${v}`;
            else env.push(`${k}=${v}`);
          }
          c.Env = env;
        });
      }
      case 'LABEL': {
        const pairs = keyValues(args, this.lookup(this.stage), this.escape, 'LABEL', true);
        return this.meta(`LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`, (c) => {
          c.Labels = { ...(c.Labels ?? {}) };
          for (const [k, v] of pairs) c.Labels[k] = v;
        });
      }
      case 'MAINTAINER': {
        const who = args.trim();
        this.stage.author = who;
        return this.meta(`MAINTAINER ${who}`, () => undefined);
      }
      case 'ARG': {
        const pairs = this.argPairs(inst, this.stage);
        const shown: string[] = [];
        for (const [name, dflt] of pairs) {
          this.usedArgs.add(name);
          const v = this.buildArgs.get(name) ?? dflt ?? this.globalArgs.get(name);
          if (v !== undefined) this.stage.args.set(name, v);
          else this.stage.args.delete(name);
          shown.push(dflt === undefined ? name : `${name}=${dflt}`);
        }
        return this.meta(`ARG ${shown.join(' ')}`, () => undefined);
      }
      case 'EXPOSE': {
        const ports = processWords(args, this.lookup(this.stage), this.escape);
        for (const p of ports) if (!/^\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp))?$/i.test(p)) throw invalid(`EXPOSE: invalid containerPort: ${p}`);
        const keys = ports.map((p) => (p.includes('/') ? p.toLowerCase() : `${p}/tcp`));
        return this.meta(`EXPOSE ${ports.join(' ')}`, (c) => {
          c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
          for (const k of keys) c.ExposedPorts[k] = {};
        });
      }
      case 'VOLUME': {
        const vols = inst.json ? inst.json.map((v) => this.word(v)) : processWords(args, this.lookup(this.stage), this.escape);
        if (vols.length === 0 || vols.some((v) => v.trim() === '')) throw invalid('VOLUME specified can not be an empty string');
        return this.meta(`VOLUME [${vols.join(' ')}]`, (c) => {
          c.Volumes = { ...(c.Volumes ?? {}) };
          for (const v of vols) c.Volumes[v] = {};
        });
      }
      case 'USER': {
        const user = this.word(args);
        return this.meta(`USER ${user}`, (c) => {
          c.User = user;
        });
      }
      case 'STOPSIGNAL': {
        const sig = this.word(args);
        if (!/^(SIG)?[A-Z0-9+-]+$|^\d+$/i.test(sig)) throw invalid(`STOPSIGNAL: invalid signal: ${sig}`);
        return this.meta(`STOPSIGNAL ${sig}`, (c) => {
          c.StopSignal = sig;
        });
      }
      case 'CMD': {
        const cmd = inst.json ?? shellForm();
        this.stage.cmdSet = true;
        return this.meta(`CMD ${goQuoted(cmd)}`, (c) => {
          c.Cmd = cmd;
        });
      }
      case 'ENTRYPOINT': {
        const ep = inst.json ?? (args === '' ? null : shellForm());
        const keepCmd = this.stage.cmdSet;
        return this.meta(`ENTRYPOINT ${goQuoted(ep ?? [])}`, (c) => {
          c.Entrypoint = ep;
          // A base's CMD does not survive a new ENTRYPOINT (Docker's rule).
          if (!keepCmd) c.Cmd = null;
        });
      }
      case 'SHELL': {
        if (!inst.json || inst.json.length === 0) throw invalid('SHELL requires the arguments to be in JSON form');
        const sh = inst.json;
        return this.meta(`SHELL ${goQuoted(sh)}`, (c) => {
          c.Shell = sh;
        });
      }
      case 'HEALTHCHECK':
        return this.healthcheck(inst);
      default:
        throw parseError(inst.line, `unknown instruction: ${inst.cmd}`);
    }
  }

  private async healthcheck(inst: Instruction): Promise<void> {
    const m = /^(\S+)\s*([\s\S]*)$/.exec(inst.args)!;
    const kind = m[1]!.toUpperCase();
    let hc: NonNullable<ImageConfig['Healthcheck']>;
    if (kind === 'NONE') {
      if (m[2]!.trim() !== '' || Object.keys(inst.flags).length) throw invalid('HEALTHCHECK NONE takes no arguments');
      hc = { Test: ['NONE'] };
    } else if (kind === 'CMD') {
      const rest = m[2]!.trim();
      if (rest === '') throw invalid('Missing command after HEALTHCHECK CMD');
      let test: string[];
      try {
        const v = JSON.parse(rest) as unknown;
        test = Array.isArray(v) && v.every((x) => typeof x === 'string') ? ['CMD', ...(v as string[])] : ['CMD-SHELL', rest];
      } catch {
        test = ['CMD-SHELL', rest];
      }
      hc = { Test: test };
      const dur = (flag: string): number | undefined => {
        const v = inst.flags[flag];
        if (v === undefined) return undefined;
        const ns = parseGoDuration(v);
        if (ns === undefined) throw invalid(`HEALTHCHECK --${flag}: invalid duration ${JSON.stringify(v)}`);
        return ns;
      };
      const interval = dur('interval');
      const timeout = dur('timeout');
      const startPeriod = dur('start-period');
      const startInterval = dur('start-interval');
      if (interval !== undefined) hc.Interval = interval;
      if (timeout !== undefined) hc.Timeout = timeout;
      if (startPeriod !== undefined) hc.StartPeriod = startPeriod;
      if (startInterval !== undefined) hc.StartInterval = startInterval;
      if (inst.flags.retries !== undefined) {
        const n = Number(inst.flags.retries);
        if (!Number.isInteger(n) || n < 0) throw invalid(`HEALTHCHECK --retries: invalid value ${inst.flags.retries}`);
        hc.Retries = n;
      }
    } else {
      throw invalid(`Unknown type "${m[1]}" in HEALTHCHECK (try CMD)`);
    }
    const h = hc;
    // Go's %v of the struct, as dockerd 20.10 writes it in history.
    const shown = h.Test?.[0] === 'NONE' ? goQuoted(['NONE']) : `&{${goQuoted(h.Test ?? [])} "${goDuration(h.Interval ?? 0)}" "${goDuration(h.Timeout ?? 0)}" "${goDuration(h.StartPeriod ?? 0)}" ${goRune(h.Retries ?? 0)}}`;
    return this.meta(`HEALTHCHECK ${shown}`, (c) => {
      c.Healthcheck = h;
    });
  }

  /** A config-only step: cached like the others, committed as an empty layer. */
  private async meta(comment: string, change: (c: ImageConfig) => void): Promise<void> {
    const stage = this.stage;
    const next = structuredClone(stage.config);
    change(next);
    const parent = cacheParent(stage);
    const createdBy = `${(stage.config.Shell ?? DEFAULT_SHELL).join(' ')} #(nop)  ${comment}`;
    const key = JSON.stringify({ kind: 'meta', createdBy, config: next, args: [...stage.args] });
    stage.config = next;
    if (await this.fromCache(parent, key)) return;
    const base = await this.ensureImage(stage);
    const id = await commitImage(this.deps.imageCtx, { baseImageId: base, config: next, createdBy, author: stage.author, tags: [] });
    await this.finishStep(parent, key, id);
  }

  private async fromCache(parent: string, key: string): Promise<boolean> {
    if (this.opts.noCache) return false;
    const hit = this.deps.cache.get(parent, key);
    if (!hit) return false;
    this.stage.imageId = hit;
    this.say(` ---> Using cache\n ---> ${short(hit)}\n`);
    return true;
  }

  private async finishStep(parent: string, key: string, id: string): Promise<void> {
    this.stage.imageId = id;
    await this.deps.cache.put(parent, key, id);
    this.say(` ---> ${short(id)}\n`);
  }

  // ---- RUN ---------------------------------------------------------------

  /** The build args a RUN sees, name=value, in declaration order. */
  private runArgs(): string[] {
    const out: string[] = [];
    for (const [k, v] of this.stage.args) out.push(`${k}=${v}`);
    for (const [k, v] of this.buildArgs) if (PREDEFINED_ARGS.has(k) && !this.stage.args.has(k)) out.push(`${k}=${v}`);
    return out;
  }

  private async runStep(inst: Instruction): Promise<void> {
    const stage = this.stage;
    const cmd = inst.json ?? [...(stage.config.Shell ?? DEFAULT_SHELL), inst.args];
    if (cmd.length === 0 || (inst.json === undefined && inst.args === '')) throw invalid('RUN requires at least one argument');
    const args = this.runArgs();
    // History and the cache see declared args, not the proxy ones (Docker's rule).
    const shownArgs = [...stage.args].map(([k, v]) => `${k}=${v}`);
    const createdBy = (shownArgs.length ? `|${shownArgs.length} ${shownArgs.join(' ')} ` : '') + cmd.join(' ');
    const parent = cacheParent(stage);
    const network = this.opts.networkMode;
    // The command as an array: `RUN echo hi` and `RUN ["/bin/sh","-c","echo","hi"]` differ.
    const key = JSON.stringify({ kind: 'run', cmd, args: shownArgs, network: network ?? '' });
    if (await this.fromCache(parent, key)) return;
    const base = await this.ensureImage(stage);

    const envNames = new Set((stage.config.Env ?? []).map((e) => e.split('=')[0]));
    const env = [...(stage.config.Env ?? []), ...args.filter((a) => !envNames.has(a.split('=')[0]))];
    const { Id: cid } = await this.createContainer({
      ...stage.config,
      Image: base,
      Cmd: cmd,
      Entrypoint: [],
      Env: env,
      Healthcheck: undefined,
      HostConfig: { NetworkMode: netMode(network), AutoRemove: false },
    });
    let removed = false;
    try {
      this.say(` ---> Running in ${short(cid)}\n`);
      const code = await this.runContainer(cid);
      if (code !== 0) {
        this.leftContainers.push(cid);
        removed = true; // kept for debugging, as dockerd does, unless forceRm
        throw new BuildStepError(`The command '${cmd.join(' ')}' returned a non-zero code: ${code}`, code);
      }
      const id = await this.commitContainer(cid, stage.config, createdBy, stage.author);
      if (this.opts.rm !== false) {
        await this.removeContainer(cid);
        this.say(`Removing intermediate container ${short(cid)}\n`);
      }
      removed = true;
      await this.finishStep(parent, key, id);
    } finally {
      if (!removed) {
        if (this.opts.rm !== false || this.opts.forceRm) await this.removeContainer(cid);
      }
    }
  }

  private async createContainer(req: CreateRequest): Promise<{ Id: string }> {
    const r = await this.deps.containers.create(req);
    return { Id: r.Id };
  }

  private async removeContainer(id: string): Promise<void> {
    // with the anonymous volumes the base image's VOLUMEs gave it
    await this.deps.containers.remove(id, { force: true, volumes: true }).catch((err: unknown) => log.warn('removing a build container failed', { container: id, err }));
  }

  /** Starts the container with its output streamed to the client; its exit code. */
  private async runContainer(id: string): Promise<number> {
    const session = await this.deps.containers.attach(id, { stdout: true, stderr: true, stream: true });
    const onAbort = (): void => {
      void this.deps.containers.kill(id, 'SIGKILL').catch(() => undefined);
    };
    this.opts.signal?.addEventListener('abort', onAbort);
    try {
      // a client gone while the container was being made: never start it
      this.checkAborted();
      await this.deps.containers.start(id);
      const decoders = { 1: new StringDecoder('utf8'), 2: new StringDecoder('utf8') };
      for await (const chunk of session.output) {
        const text = decoders[chunk.stream].write(chunk.data);
        if (text) this.say(text);
      }
      for (const d of Object.values(decoders)) {
        const rest = d.end();
        if (rest) this.say(rest);
      }
      const r = await this.deps.containers.wait(id, { condition: 'not-running' });
      this.checkAborted();
      return r.StatusCode;
    } finally {
      this.opts.signal?.removeEventListener('abort', onAbort);
      session.close();
    }
  }

  private async commitContainer(cid: string, config: ImageConfig, createdBy: string, author?: string): Promise<string> {
    const { cx } = this.deps;
    return cx.lock(cid, async () => {
      const c = cx.store.get(cid);
      if (!c) throw notFound(`No such container: ${cid}`);
      return commitUpperDir(cx, c, { config, createdBy, author, tags: [] });
    });
  }

  /** A container of the current image, never started, to change its files. */
  private async withScratchContainer<T>(comment: string, fn: (root: ScopedRoot) => Promise<T>): Promise<{ cid: string; result: T }> {
    const stage = this.stage;
    const parent = await this.ensureImage(stage);
    const { Id: cid } = await this.createContainer({
      Image: parent,
      Cmd: [...(stage.config.Shell ?? DEFAULT_SHELL), `#(nop) ${comment}`],
      Entrypoint: [],
      Env: stage.config.Env ?? [],
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      const { cx } = this.deps;
      const result = await cx.lock(cid, async () => {
        const c = cx.store.get(cid);
        if (!c) throw notFound(`No such container: ${cid}`);
        const root = await openWriteView(cx, c);
        try {
          return await fn(root);
        } finally {
          await root.close();
        }
      });
      return { cid, result };
    } catch (err) {
      await this.removeContainer(cid);
      throw err;
    }
  }

  // ---- WORKDIR -------------------------------------------------------------

  private async workdir(inst: Instruction): Promise<void> {
    const stage = this.stage;
    const dir = posix.resolve('/', stage.config.WorkingDir || '/', this.word(inst.args));
    const next = { ...structuredClone(stage.config), WorkingDir: dir };
    const parent = cacheParent(stage);
    const createdBy = `${(stage.config.Shell ?? DEFAULT_SHELL).join(' ')} #(nop) WORKDIR ${dir}`;
    const key = JSON.stringify({ kind: 'workdir', createdBy, config: next });
    stage.config = next;
    if (await this.fromCache(parent, key)) return;
    const { cid, result: made } = await this.withScratchContainer(`WORKDIR ${dir}`, async (root) => {
      const r = await root.resolve(dir, { followLast: true, mkdirParents: true });
      try {
        if (r.stat?.isDirectory()) return false;
        if (r.stat) throw invalid(`WORKDIR ${dir}: exists and is not a directory`);
        await mkdir(ScopedRoot.at(r.dir, r.name), 0o755);
        return true;
      } finally {
        await r.release();
      }
    });
    try {
      const id = made
        ? await this.commitContainer(cid, next, createdBy, stage.author)
        : await commitImage(this.deps.imageCtx, { baseImageId: await this.ensureImage(stage), config: next, createdBy, author: stage.author, tags: [] });
      await this.finishStep(parent, key, id);
    } finally {
      await this.removeContainer(cid);
    }
  }

  // ---- COPY / ADD ------------------------------------------------------------

  private async copy(inst: Instruction): Promise<void> {
    const stage = this.stage;
    const isAdd = inst.cmd === 'ADD';
    const lookup = this.lookup(stage);
    const words = inst.json ? inst.json.map((w) => processWord(w, lookup, this.escape)) : processWords(inst.args, lookup, this.escape);
    if (words.length < 2) throw invalid(`${inst.cmd} requires at least two arguments, but only one was provided. Destination could not be determined.`);
    const patterns = words.slice(0, -1);
    const dest = resolveDest(words.at(-1)!, stage.config.WorkingDir ?? '/');
    if (isAdd) {
      for (const p of patterns) {
        if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p) || p.startsWith('git@')) {
          throw notImplemented(`ADD ${p}: adding from a URL is not supported by joey's builder (it has no network); download the file into the build context and ADD or COPY it from there`);
        }
      }
    }
    const chownSpec = inst.flags.chown ? processWord(inst.flags.chown, lookup, this.escape) : undefined;
    let chmod: number | undefined;
    if (inst.flags.chmod !== undefined) {
      if (!/^[0-7]{3,4}$/.test(inst.flags.chmod)) throw invalid(`${inst.cmd} --chmod=${inst.flags.chmod}: only octal modes are supported`);
      chmod = parseInt(inst.flags.chmod, 8);
    }
    const fromName = inst.flags.from ? processWord(inst.flags.from, lookup, this.escape) : undefined;
    if (fromName !== undefined && isAdd) throw invalid('ADD does not support --from; use COPY --from');

    // The source tree: the context, or another stage's or image's rootfs.
    let srcImage: string | undefined;
    if (fromName !== undefined) {
      const byName = this.stages.find((s) => s.name === fromName.toLowerCase());
      const byIndex = /^\d+$/.test(fromName) ? this.stages[Number(fromName)] : undefined;
      if (/^\d+$/.test(fromName) && !byIndex) throw invalid(`COPY --from=${fromName}: invalid stage index (only earlier stages can be used)`);
      const s = byName ?? byIndex;
      if (s === stage) throw invalid(`COPY --from=${fromName}: a stage cannot copy from itself`);
      srcImage = s ? await this.ensureImage(s) : await this.baseImage(fromName);
    }
    const srcView = srcImage ? await this.openImageView(srcImage) : undefined;
    const srcRoot = srcView?.root ?? this.ctx.root;
    try {
      const sources: string[] = [];
      for (const p of patterns) sources.push(...(await expandSource(srcRoot, p, inst.cmd, srcImage === undefined)));
      checkSourceCount(inst.cmd, sources.length, dest);
      const sum = await checksumSources(srcRoot, sources, srcView ? undefined : this.ctx.digests);
      const kind = sources.length > 1 ? 'multi' : (await isDirectory(srcRoot, sources[0]!)) ? 'dir' : 'file';
      // As dockerd writes it: the destination as written, --chown shown.
      const createdBy = `${(stage.config.Shell ?? DEFAULT_SHELL).join(' ')} #(nop) ${inst.cmd} ${chownSpec ? `--chown=${chownSpec} ` : ''}${kind}:${sum} in ${words.at(-1)!} `;
      const parent = cacheParent(stage);
      const key = JSON.stringify({ kind: 'copy', createdBy, from: srcImage ?? '', chownSpec, chmod, isAdd, dest });
      if (await this.fromCache(parent, key)) return;
      const { cid } = await this.withScratchContainer(`${inst.cmd} ${kind}:${sum} in ${dest.path}`, async (root) => {
        const owner = await resolveChown(root, chownSpec);
        for (const src of sources) await copyOne(srcRoot, src, root, dest, { owner, chmod, unpack: isAdd && srcImage === undefined });
      });
      try {
        const id = await this.commitContainer(cid, stage.config, createdBy, stage.author);
        await this.finishStep(parent, key, id);
      } finally {
        await this.removeContainer(cid);
      }
    } finally {
      await srcView?.close();
    }
  }

  /** A read-only view of an image's rootfs, through a container that never starts. */
  private async openImageView(imageId: string): Promise<{ root: ScopedRoot; close(): Promise<void> }> {
    const { Id: cid } = await this.createContainer({ Image: imageId, Cmd: ['/bin/sh'], Entrypoint: [], HostConfig: { NetworkMode: 'none' } });
    try {
      const { cx } = this.deps;
      const root = await cx.lock(cid, async () => {
        const c = cx.store.get(cid);
        if (!c) throw notFound(`No such container: ${cid}`);
        return openReadView(cx, c);
      });
      return {
        root,
        close: async () => {
          await root.close();
          await this.removeContainer(cid);
        },
      };
    } catch (err) {
      await this.removeContainer(cid);
      throw err;
    }
  }
}

/** The parent a step is cached under: the stage's image, or '' for a FROM
 * scratch stage with nothing yet, whose empty image is made anew (a new id)
 * by every build that needs it. */
function cacheParent(stage: Stage): string {
  return stage.imageId ?? '';
}

function stageName(inst: Instruction): string | undefined {
  const w = processWordsRaw(inst.args);
  return w.length === 3 && w[1]!.toLowerCase() === 'as' ? w[2] : undefined;
}

/** Whitespace-separated words as written (for FROM and ARG, which are split
 * before their words are substituted). */
function processWordsRaw(s: string): string[] {
  return s.trim() === '' ? [] : s.trim().split(/\s+/);
}

function netMode(n: string | undefined): string {
  if (!n || n === 'default') return 'default';
  return n;
}

/** Go's %q of a []string: ["a" "b"], as dockerd writes history. */
function goQuoted(a: string[]): string {
  return `[${a.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** Go's time.Duration.String() for whole and fractional seconds. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1e9) return ns % 1e6 === 0 ? `${ns / 1e6}ms` : ns % 1e3 === 0 ? `${ns / 1e3}µs` : `${ns}ns`;
  let s = ns / 1e9;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const sec = `${Number(s.toFixed(9))}s`;
  return h ? `${h}h${m}m${sec}` : m ? `${m}m${sec}` : sec;
}

/** Go's %q of a small integer (a rune): '\x02', 'A'. */
function goRune(n: number): string {
  if (n >= 0x20 && n < 0x7f) return `'${String.fromCharCode(n)}'`;
  return `'\\x${n.toString(16).padStart(2, '0')}'`;
}

/** Go's time.ParseDuration for the common units; nanoseconds. */
export function parseGoDuration(s: string): number | undefined {
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * units[m[2]!]!;
    at = re.lastIndex;
  }
  return at === s.length && at > 0 ? Math.round(total) : undefined;
}

/** The tree paths a COPY source names: one path, or what a glob matches. */
async function expandSource(root: ScopedRoot, pattern: string, cmd: string, isContext: boolean): Promise<string[]> {
  const clean = posix.normalize('/' + pattern);
  if (isContext && posix.normalize(pattern).startsWith('..')) throw invalid(`${cmd} failed: forbidden path outside the build context: ${pattern}`);
  const notFoundErr = (): JoeyError =>
    isContext
      ? invalid(`${cmd} failed: file not found in build context or excluded by .dockerignore: stat ${pattern.replace(/^\/+/, '') || '.'}: file does not exist`)
      : invalid(`${cmd} failed: stat ${clean}: file does not exist`);
  if (!/[*?[]/.test(clean)) {
    const r = await root.resolve(clean, { followLast: true }).catch((err: unknown) => {
      if (is(err, 'not-found')) return undefined;
      throw err;
    });
    if (!r?.stat) {
      await r?.release();
      throw notFoundErr();
    }
    await r.release();
    return [clean];
  }
  const re = compileGlob(clean.slice(1));
  const out: string[] = [];
  const depth = clean.split('/').length - 1;
  const walk = async (dir: DirRef, rel: string, level: number): Promise<void> => {
    for (const name of (await root.readdir(dir)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      if (re.test(path)) out.push('/' + path);
      if (level + 1 < depth) {
        const st = await root.lstat(dir, name);
        if (st?.isDirectory()) {
          const sub = await root.openDir(dir, name);
          try {
            await walk(sub, path, level + 1);
          } finally {
            await sub.fh.close();
          }
        }
      }
    }
  };
  await walk(root.root, '', 0);
  if (out.length === 0) throw notFoundErr();
  return out;
}

/** A checksum of the sources' names, types, modes, link targets and
 * contents (not their times or owners: the copy sets those). A file's
 * content counts by its sha256, taken from `digests` (the context's, hashed
 * as it was unpacked) when the file is there, else read. */
async function checksumSources(root: ScopedRoot, sources: string[], digests?: FileDigests): Promise<string> {
  const h = createHash('sha256');
  const entry = async (dir: DirRef, name: string, rel: string, follow: boolean): Promise<void> => {
    const st = await root.lstat(dir, name);
    if (!st) return;
    if (follow && st.isSymbolicLink()) {
      const r = await root.resolve(posix.join(dir.path, name), { followLast: true });
      try {
        return await entry(r.dir, r.name, rel, false);
      } finally {
        await r.release();
      }
    }
    h.update(`${rel}\0${st.mode}\0`);
    if (st.isSymbolicLink()) h.update(await root.readlink(dir, name));
    else if (st.isFile()) {
      const known = digests?.get(joinTree(dir.path, name).slice(1));
      if (known && known.size === st.size) {
        h.update(known.digest);
        return;
      }
      const f = await root.openFile(dir, name);
      if (f) {
        const fileHash = createHash('sha256');
        try {
          for await (const chunk of f.fh.createReadStream({ autoClose: false })) fileHash.update(chunk as Buffer);
        } finally {
          await f.fh.close();
        }
        h.update(fileHash.digest('hex'));
      }
    } else if (st.isDirectory()) {
      const sub = await root.openDir(dir, name);
      try {
        for (const child of (await root.readdir(sub)).sort()) await entry(sub, child, `${rel}/${child}`, false);
      } finally {
        await sub.fh.close();
      }
    }
  };
  for (const src of sources) {
    const r = await root.resolve(src, { followLast: false });
    try {
      await entry(r.dir, r.name, src, true);
    } finally {
      await r.release();
    }
  }
  return h.digest('hex');
}

/** --chown's user and group, names looked up in the image's /etc files. */
async function resolveChown(root: ScopedRoot, spec: string | undefined): Promise<{ uid: number; gid: number }> {
  if (!spec) return { uid: 0, gid: 0 };
  const [user = '', group] = spec.split(':');
  const passwd = (await root.readFile('/etc/passwd'))?.toString('utf8');
  const groups = (await root.readFile('/etc/group'))?.toString('utf8');
  let gidSpec = group;
  if (gidSpec === undefined) {
    // Docker: no group means the group of the same name (or number).
    if (/^\d+$/.test(user)) gidSpec = user;
    else if (groups?.split('\n').some((l) => l.split(':')[0] === user)) gidSpec = user;
  }
  try {
    const u = resolveUserFrom(gidSpec === undefined ? user : `${user}:${gidSpec}`, passwd, groups);
    return { uid: u.uid, gid: u.gid };
  } catch (err) {
    throw invalid(`--chown=${spec}: ${(err as Error).message}`, err);
  }
}

/** Whether the file is a tar archive (plain or compressed) that ADD unpacks. */
async function isArchive(root: ScopedRoot, dir: DirRef, name: string): Promise<boolean> {
  const f = await root.openFile(dir, name);
  if (!f) return false;
  try {
    const magic = Buffer.alloc(ARCHIVE_MAGIC_BYTES);
    const { bytesRead } = await f.fh.read(magic, 0, magic.length, 0);
    return await isTarFile(f.fh.createReadStream({ start: 0, autoClose: false }), magic.subarray(0, bytesRead));
  } finally {
    await f.fh.close();
  }
}

async function copyOne(
  srcRoot: ScopedRoot,
  src: string,
  root: ScopedRoot,
  dest: Dest,
  opts: { owner: { uid: number; gid: number }; chmod?: number; unpack: boolean },
): Promise<void> {
  const r = await srcRoot.resolve(src, { followLast: true });
  try {
    if (!r.stat) throw invalid(`stat ${src}: file does not exist`);
    const isDir = r.stat.isDirectory();
    if (opts.unpack && r.stat.isFile() && (await isArchive(srcRoot, r.dir, r.name))) {
      await mkdirAll(root, dest.path);
      const f = await srcRoot.openFile(r.dir, r.name);
      if (!f) throw invalid(`ADD ${src}: cannot read the archive`);
      try {
        // The archive's own owners are kept, as Docker's ADD does.
        await extractInto(root, dest.path, f.fh.createReadStream({ autoClose: false }));
      } finally {
        await f.fh.close();
      }
      return;
    }
    const d = await root.resolve(dest.path, { followLast: true }).catch((err: unknown) => {
      if (is(err, 'not-found')) return undefined;
      throw err;
    });
    const destIsDir = d?.stat?.isDirectory() ?? false;
    await d?.release();
    const target = targetPath({ isDir, base: posix.basename(src) || '.' }, dest, destIsDir);
    const entryName = target.replace(/^\/+/, '');
    // In an archive worker, with synchronous calls: what packTree piped
    // into extractInto did, without the tar and the awaits per file.
    await copyBetween(srcRoot, root, { src, entryName, chown: opts.owner, ...(opts.chmod !== undefined ? { chmod: opts.chmod } : {}) });
  } finally {
    await r.release();
  }
}

async function isDirectory(root: ScopedRoot, path: string): Promise<boolean> {
  const r = await root.resolve(path, { followLast: true });
  await r.release();
  return r.stat?.isDirectory() ?? false;
}

async function mkdirAll(root: ScopedRoot, path: string): Promise<void> {
  const r = await root.resolve(path, { followLast: true, mkdirParents: true });
  try {
    if (!r.stat) await mkdir(ScopedRoot.at(r.dir, r.name), 0o755);
    else if (!r.stat.isDirectory()) throw invalid(`${path}: not a directory`);
  } finally {
    await r.release();
  }
}
