// What every command gets: the streams, the global options, and a lazily
// built API client and credential store.
import { existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { ApiClient } from '../client/client.ts';
import { StatusError } from './errors.ts';
import type { TlsOptions } from '../client/client.ts';
import { resolveHost } from '../client/host.ts';
import { CredentialStore, configDir } from '../client/auth.ts';
import { VERSION } from './build-info.ts';

export interface InStream extends AsyncIterable<Buffer | string> {
  isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
  on(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  pause?: () => unknown;
  resume?: () => unknown;
}

export interface OutStream {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
  write(chunk: string | Uint8Array): boolean;
  once(event: string, listener: (...args: any[]) => void): unknown;
  on(event: string, listener: (...args: any[]) => void): unknown;
}

export interface CliIo {
  stdin: InStream;
  stdout: OutStream;
  stderr: OutStream;
  env: Record<string, string | undefined>;
  /** The process's signals, for `--sig-proxy`: calls `handler` with the
   * signal's name ("SIGINT"); returns a function that stops listening. */
  onSignal?: (handler: (signal: string) => void) => () => void;
  /** The working directory that relative paths are resolved against. */
  cwd?: string;
}

export interface GlobalOptions {
  host?: string[];
  config?: string;
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  debug?: boolean;
  logLevel?: string;
}

/** The settings of config.json that commands read (besides credentials). */
export interface ConfigFileSettings {
  detachKeys?: string;
  psFormat?: string;
  statsFormat?: string;
  imagesFormat?: string;
  networksFormat?: string;
}

export class Cli {
  readonly io: CliIo;
  readonly opts: GlobalOptions;
  private apiClient?: ApiClient;
  private settings?: ConfigFileSettings;

  constructor(io: CliIo, opts: GlobalOptions) {
    this.io = io;
    this.opts = opts;
  }

  get env(): Record<string, string | undefined> {
    return this.io.env;
  }

  /** ~/.joey, or --config, or JOEY_CONFIG. */
  get configDir(): string {
    return configDir({ flag: this.opts.config, env: this.env });
  }

  get client(): ApiClient {
    if (!this.apiClient) {
      const { host } = resolveHost({ flag: this.opts.host, env: this.env });
      const debug = this.opts.debug ? (line: string) => this.io.stderr.write(`DEBU ${line}\n`) : undefined;
      this.apiClient = new ApiClient({ host, tls: this.tlsOptions(), userAgent: `joey-cli/${VERSION}`, debug });
    }
    return this.apiClient;
  }

  /** config.json's detachKeys, psFormat, statsFormat: empty when the file
   * is missing or unreadable (docker goes on without it too). */
  get config(): ConfigFileSettings {
    if (!this.settings) {
      this.settings = {};
      try {
        const data = JSON.parse(readFileSync(path.join(this.configDir, 'config.json'), 'utf8')) as Record<string, unknown>;
        for (const k of ['detachKeys', 'psFormat', 'statsFormat', 'imagesFormat', 'networksFormat'] as const) {
          if (typeof data[k] === 'string') this.settings[k] = data[k] as string;
        }
      } catch {
        // no config: defaults
      }
    }
    return this.settings;
  }

  /** The directory relative paths on the command line are taken from. */
  get cwd(): string {
    return this.io.cwd ?? process.cwd();
  }

  credentials(): Promise<CredentialStore> {
    return CredentialStore.open(this.configDir);
  }

  get stdoutIsTerminal(): boolean {
    return !!this.io.stdout.isTTY;
  }

  get stdinIsTerminal(): boolean {
    return !!this.io.stdin.isTTY;
  }

  out(text: string): void {
    this.io.stdout.write(text);
  }

  err(text: string): void {
    this.io.stderr.write(text);
  }

  /** Copies a byte stream to stdout, respecting backpressure. */
  async pipeToStdout(src: AsyncIterable<Buffer | string>): Promise<void> {
    for await (const chunk of src) {
      if (!this.io.stdout.write(chunk)) await once(this.io.stdout as unknown as NodeJS.EventEmitter, 'drain');
    }
  }

  close(): void {
    this.apiClient?.close();
  }

  /** TLS as docker configures it: --tlsverify implies --tls; the default
   * files live in JOEY_CERT_PATH or the config dir and are optional. */
  private tlsOptions(): TlsOptions | undefined {
    const envVerify = this.env.JOEY_TLS_VERIFY;
    const verify = this.opts.tlsverify ?? (envVerify !== undefined && envVerify !== '' && envVerify !== '0');
    if (!this.opts.tls && !verify) return undefined;
    const dir = this.env.JOEY_CERT_PATH || this.configDir;
    const load = (flag: string | undefined, name: string): Buffer | undefined => {
      const file = flag ?? path.join(dir, name);
      if (flag === undefined && !existsSync(file)) return undefined;
      return readFileSync(file);
    };
    return {
      verify,
      ca: load(this.opts.tlscacert, 'ca.pem'),
      cert: load(this.opts.tlscert, 'cert.pem'),
      key: load(this.opts.tlskey, 'key.pem'),
    };
  }
}

/** docker's message for a file that cannot be opened ("open x: no such file or directory"). */
export function fileError(err: unknown, file: string): Error {
  const e = err as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EISDIR: 'is a directory',
    ENOTDIR: 'not a directory',
  };
  const reason = (e.code && reasons[e.code]) ?? e.message;
  return new StatusError(`open ${file}: ${reason}`);
}
