// Image references as the docker CLI normalizes them before it calls the
// API (distribution/reference rules): "busybox" is docker.io/library/busybox,
// the familiar form drops both again.

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const NAME_MAX = 255;

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const namePat = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`;
const REFERENCE = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const ANCHORED_ID = /^[a-f0-9]{64}$/;
const DIGEST = new RegExp(`^${digestPat}$`);

export interface NamedRef {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

export class ReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReferenceError';
  }
}

function splitDockerDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let domain: string;
  let rest: string;
  const first = i < 0 ? '' : name.slice(0, i);
  if (i < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    rest = name;
  } else {
    domain = first;
    rest = name.slice(i + 1);
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !rest.includes('/')) rest = OFFICIAL_PREFIX + rest;
  return [domain, rest];
}

function parse(s: string): NamedRef {
  const m = REFERENCE.exec(s);
  if (!m) {
    if (s === '') throw new ReferenceError('repository name must have at least one component');
    if (REFERENCE.test(s.toLowerCase())) throw new ReferenceError('repository name must be lowercase');
    throw new ReferenceError('invalid reference format');
  }
  const name = m[1]!;
  if (name.length > NAME_MAX) throw new ReferenceError(`repository name must not be more than ${NAME_MAX} characters`);
  const digest = m[3];
  if (digest?.startsWith('sha256:') && digest.length !== 7 + 64) throw new ReferenceError('invalid checksum digest length');
  const slash = name.indexOf('/');
  const ref: NamedRef = { domain: name.slice(0, slash), path: name.slice(slash + 1) };
  if (m[2] !== undefined) ref.tag = m[2];
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** docker's ParseNormalizedNamed. Throws ReferenceError with docker's text. */
export function parseNormalizedNamed(s: string): NamedRef {
  if (ANCHORED_ID.test(s)) {
    throw new ReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const [domain, rest] = splitDockerDomain(s);
  const colon = rest.indexOf(':');
  const remoteName = colon >= 0 ? rest.slice(0, colon) : rest;
  if (remoteName.toLowerCase() !== remoteName) {
    throw new ReferenceError(`invalid reference format: repository name (${remoteName}) must be lowercase`);
  }
  return parse(`${domain}/${rest}`);
}

/** docker's ParseAnyReference: also accepts an image id or a bare digest. */
export function parseAnyReference(s: string): NamedRef | { digest: string } {
  if (ANCHORED_ID.test(s)) return { digest: `sha256:${s}` };
  if (DIGEST.test(s)) return { digest: s };
  return parseNormalizedNamed(s);
}

export const isNameOnly = (r: NamedRef): boolean => r.tag === undefined && r.digest === undefined;

/** Adds the "latest" tag when neither tag nor digest is given. */
export function tagNameOnly(r: NamedRef): NamedRef {
  return isNameOnly(r) ? { ...r, tag: 'latest' } : r;
}

/** "docker.io/library/busybox" */
export const fullName = (r: NamedRef): string => `${r.domain}/${r.path}`;

/** "busybox", "team/app", "127.0.0.1:5000/app" */
export function familiarName(r: NamedRef): string {
  if (r.domain !== DEFAULT_DOMAIN) return fullName(r);
  if (r.path.startsWith(OFFICIAL_PREFIX) && !r.path.slice(OFFICIAL_PREFIX.length).includes('/')) {
    return r.path.slice(OFFICIAL_PREFIX.length);
  }
  return r.path;
}

const suffix = (r: NamedRef) => (r.tag !== undefined ? `:${r.tag}` : '') + (r.digest !== undefined ? `@${r.digest}` : '');

/** "docker.io/library/busybox:latest" */
export const referenceString = (r: NamedRef): string => fullName(r) + suffix(r);

/** "busybox:latest" */
export const familiarString = (r: NamedRef): string => familiarName(r) + suffix(r);
