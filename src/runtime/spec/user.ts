// Resolving Docker's User ("name", "uid", "name:group", "uid:gid") against the
// container's own /etc/passwd and /etc/group, with the rules of runc's
// libcontainer/user that Docker uses: numbers need no entry, names do, and
// supplementary groups come from /etc/group only when no group was named.
// As dockerd (since 25.0), the primary group is also a supplementary one, so
// `id` shows `groups=65534(nogroup)` for nobody and `groups=1000` for 1000:1000.
import { invalid } from '../../errdefs/index.ts';
import { readFileInRoot } from './rootfs-file.ts';
import type { ResolvedUser } from './types.ts';

const MAX_ID = 2147483647;

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function fields(text: string | undefined): string[][] {
  if (!text) return [];
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

const isNum = (s: string): boolean => /^[0-9]+$/.test(s);

export function parsePasswd(text: string | undefined): PasswdEntry[] {
  return fields(text)
    .filter((f) => f.length >= 4 && isNum(f[2]!) && isNum(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' }));
}

export function parseGroup(text: string | undefined): GroupEntry[] {
  return fields(text)
    .filter((f) => f.length >= 3 && isNum(f[2]!))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) }));
}

function numericId(s: string, what: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  if (n < 0 || n > MAX_ID) throw invalid(`${what} ${s}: uids and gids must be in range 0-${MAX_ID}`);
  return n;
}

/** Resolves a user spec from already-read passwd and group files. */
export function resolveUserFrom(spec: string, passwdText: string | undefined, groupText: string | undefined, groupAdd: string[] = []): ResolvedUser {
  const [userArg = '', groupArg = ''] = spec.split(':');
  const passwd = parsePasswd(passwdText);
  const uidArg = numericId(userArg, 'user');
  const gidArg = groupArg === '' ? undefined : numericId(groupArg, 'group');

  // An empty user is root (uid 0), still looked up for its gid and home.
  const match = userArg === '' ? passwd.find((u) => u.uid === 0) : uidArg !== undefined ? passwd.find((u) => u.uid === uidArg) : passwd.find((u) => u.name === userArg);
  const user: ResolvedUser = { uid: 0, gid: 0, additionalGids: [], home: '/' };
  if (match) {
    user.uid = match.uid;
    user.gid = match.gid;
    user.home = match.home;
  } else if (userArg !== '') {
    if (uidArg === undefined) throw invalid(`unable to find user ${userArg}: no matching entries in passwd file`);
    user.uid = uidArg;
  }

  const groups = parseGroup(groupText);
  if (groupArg !== '') {
    const g = gidArg !== undefined ? groups.find((x) => x.gid === gidArg) : groups.find((x) => x.name === groupArg);
    if (g) user.gid = g.gid;
    else if (gidArg !== undefined) user.gid = gidArg;
    else throw invalid(`unable to find group ${groupArg}: no matching entries in group file`);
  } else if (match) {
    // Supplementary groups only in the implicit form, as runc does.
    user.additionalGids = groups.filter((g) => g.members.includes(match.name)).map((g) => g.gid);
  }

  for (const add of groupAdd) {
    const n = numericId(add, 'group');
    const g = n !== undefined ? groups.find((x) => x.gid === n) : groups.find((x) => x.name === add);
    if (g) user.additionalGids.push(g.gid);
    else if (n !== undefined) user.additionalGids.push(n);
    else throw invalid(`unable to find group ${add}: no matching entries in group file`);
  }
  user.additionalGids = [...new Set([user.gid, ...user.additionalGids])];
  return user;
}

/** Resolves `spec` (Docker's User) inside the rootfs at `rootfs`, adding
 * GroupAdd's groups (names or numbers). Used for the container's process and
 * for exec, so both see the same user. */
export async function resolveUser(rootfs: string, spec: string, groupAdd?: string[] | null): Promise<ResolvedUser> {
  const [passwd, group] = await Promise.all([readFileInRoot(rootfs, '/etc/passwd'), readFileInRoot(rootfs, '/etc/group')]);
  return resolveUserFrom(spec.trim(), passwd, group, groupAdd ?? []);
}
