// joey login: checks credentials with the daemon (POST /auth) and stores
// them in ~/.joey/config.json; prompts on a terminal for what is missing.
import { INDEX_SERVER, convertToHostname } from '../client/auth.ts';
import type { AuthConfig } from '../remotes/types.ts';
import { ApiError } from '../client/client.ts';
import type { Cli } from './context.ts';
import { StatusError, displayError } from './errors.ts';
import { LineReader, readAll, readInput, readPassword } from './prompt.ts';

export interface LoginOptions {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
}

interface AuthResponse {
  Status?: string;
  IdentityToken?: string;
}

async function store(cli: Cli, key: string, auth: AuthConfig, token?: string): Promise<void> {
  const creds = await cli.credentials();
  const old = creds.get(key);
  // unchanged credentials are not written again (nor warned about)
  if (!token && old && old.username === auth.username && old.password === auth.password && !old.identitytoken) return;
  const saved: AuthConfig = token ? { username: auth.username, identitytoken: token } : auth;
  creds.set(key, saved);
  try {
    await creds.save();
  } catch (err) {
    throw new StatusError(`Error saving credentials: ${(err as Error).message}`);
  }
  if (!token && auth.password) cli.err(`\nWARNING! Your credentials are stored unencrypted in '${creds.file}'.\n\n`);
}

export async function runLogin(cli: Cli, server: string | undefined, opts: LoginOptions): Promise<void> {
  let { username = '', password = '' } = opts;
  if (opts.passwordStdin) {
    if (password) throw new StatusError('conflicting options: cannot specify both --password and --password-stdin');
    if (!username) throw new StatusError('the --password-stdin option requires --username to be set');
    password = (await readAll(cli.io.stdin)).replace(/\n$/, '').replace(/\r$/, '');
  } else if (password) {
    cli.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  }

  const serverAddress = server && server !== 'docker.io' ? server : INDEX_SERVER;
  const key = serverAddress === INDEX_SERVER ? serverAddress : convertToHostname(serverAddress);

  // stored credentials first, when none are given
  let defaultUser = '';
  if (!username && !password) {
    const stored = (await cli.credentials()).get(key);
    defaultUser = stored?.username ?? '';
    if (stored?.username && stored.password) {
      cli.err(`Authenticating with existing credentials... [Username: ${stored.username}]\n`);
      cli.err("\n Info -> To login with a different account, run 'joey logout' followed by 'joey login'\n\n\n");
      try {
        const auth = { username: stored.username, password: stored.password, serveraddress: key };
        const res = await cli.client.post<AuthResponse>('/auth', { body: auth });
        await store(cli, key, auth, res?.IdentityToken || undefined);
        if (res?.Status) cli.out(res.Status + '\n');
        return;
      } catch (err) {
        if (err instanceof ApiError && err.kind === 'unauthorized') cli.err('Stored credentials invalid or expired\n');
        else cli.err(`Login did not succeed, error: ${displayError(err)}\n`);
      }
    }
  }

  if ((!username || !password) && !cli.stdinIsTerminal) {
    throw new StatusError('Error: Cannot perform an interactive login from a non TTY device');
  }
  const reader = new LineReader(cli.io.stdin);
  username = username.trim();
  if (!username) {
    const msg = defaultUser ? `Username (${defaultUser}): ` : 'Username: ';
    username = (await readInput(reader, cli.io.stdout, msg)) || defaultUser;
    if (!username) throw new StatusError('Error: Non-null Username Required');
  }
  password = password.trim();
  if (!password) {
    password = await readPassword(cli.io.stdin, cli.io.stdout, 'Password: ', reader);
    if (!password) throw new StatusError('Error: Password Required');
  }

  const auth: AuthConfig = { username, password, serveraddress: key };
  const res = await cli.client.post<AuthResponse>('/auth', { body: auth });
  await store(cli, key, auth, res?.IdentityToken || undefined);
  if (res?.Status) cli.out(res.Status + '\n');
}
