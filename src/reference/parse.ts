// Parsing image references exactly as Docker does (distribution/reference's
// ParseNormalizedNamed and ParseAnyReference), so that names mean what they
// mean to `docker`. Two deliberate differences, both refusals: a digest must
// be sha256 (the only algorithm joey stores), and a name must end up with a
// registry (Docker leaves "a_b.c/x" without one).
import { InvalidReferenceError } from './errors.ts';
import type { IdReference, Reference } from './types.ts';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const NAME_TOTAL_MAX = 255;

// distribution/reference's grammar.
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const PATH = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const anchored = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`);
const REFERENCE_RE = new RegExp(`^((?:${DOMAIN}/)?${PATH})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const NAME_RE = new RegExp(`^(?:(${DOMAIN})/)?(${PATH})$`);
const PATH_COMPONENT_RE = anchored(PATH_COMPONENT);
const DOMAIN_RE = anchored(DOMAIN);
const TAG_RE = anchored(TAG);
const DIGEST_RE = anchored(DIGEST);
/** 64 hex digits: an image id, never a name. */
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
// go-digest's checks of a digest the reference grammar let through
const DIGEST_ALGORITHM_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$/;
const SHA256_ENCODED_RE = /^[a-f0-9]{64}$/;

const INVALID_FORMAT = 'invalid reference format';

function refuse(input: string, reason: string, dockerMessage: string): InvalidReferenceError {
  return new InvalidReferenceError(input, `${INVALID_FORMAT}: ${JSON.stringify(input)}: ${reason}`, dockerMessage);
}

/** Splits off the first component of `name` when Docker takes it for a
 * registry: it has a "." or ":", is "localhost", or has an uppercase letter
 * (Docker Hub namespaces are lowercase, so "Foo/bar" is on registry "Foo"). */
function splitDomain(name: string): [domain: string | undefined, remainder: string] {
  const slash = name.indexOf('/');
  if (slash < 0) return [undefined, name];
  const first = name.slice(0, slash);
  const isDomain = first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase();
  return isDomain ? [first, name.slice(slash + 1)] : [undefined, name];
}

/** Docker's splitDockerDomain: the default registry and "library/" filled in. */
function splitDockerDomain(s: string): [domain: string, remainder: string] {
  const [given, rest] = splitDomain(s);
  const domain = given === undefined || given === LEGACY_DEFAULT_DOMAIN ? DEFAULT_DOMAIN : given;
  const remainder = domain === DEFAULT_DOMAIN && !rest.includes('/') ? OFFICIAL_PREFIX + rest : rest;
  return [domain, remainder];
}

/** What is wrong with a reference the grammar refused, for the message;
 * undefined when no single part is to blame. */
function explain(s: string): string | undefined {
  if (s === '') return 'empty reference';
  let rest = s;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const digest = rest.slice(at + 1);
    if (!DIGEST_RE.test(digest)) return `invalid digest ${JSON.stringify(digest)}`;
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    const tag = rest.slice(colon + 1);
    if (!TAG_RE.test(tag)) {
      return `invalid tag ${JSON.stringify(tag)} (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')`;
    }
    rest = rest.slice(0, colon);
  }
  if (rest === '') return 'missing repository name';
  const [domain, path] = splitDomain(rest);
  if (domain !== undefined && !DOMAIN_RE.test(domain)) return `invalid registry host ${JSON.stringify(domain)}`;
  if (path === '') return 'missing repository name';
  for (const component of path.split('/')) {
    if (component === '') return 'empty path component in repository name';
    if (!PATH_COMPONENT_RE.test(component)) return `invalid repository name component ${JSON.stringify(component)}`;
  }
  return undefined;
}

/** go-digest's verdict on a digest, in its words; undefined when fine. */
function digestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const encoded = digest.slice(colon + 1);
  if (algorithm !== 'sha256') return DIGEST_ALGORITHM_RE.test(algorithm) ? 'unsupported digest algorithm' : 'invalid checksum digest format';
  if (encoded.length !== 64) return 'invalid checksum digest length';
  if (!SHA256_ENCODED_RE.test(encoded)) return 'invalid checksum digest format';
  return undefined;
}

/** Parses "name[:tag][@digest]" into a normalized reference: Docker's
 * ParseNormalizedNamed. Does not add a default tag (see withDefaultTag).
 * Throws InvalidReferenceError (kind 'invalid') naming the input. */
export function parseReference(s: string): Reference {
  // An image id is not a name; Docker refuses it so it is not pulled as one.
  if (IDENTIFIER_RE.test(s)) {
    const message = `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`;
    throw new InvalidReferenceError(s, message, message);
  }
  const [domain, remainder] = splitDockerDomain(s);
  const tagColon = remainder.indexOf(':');
  const remoteName = tagColon < 0 ? remainder : remainder.slice(0, tagColon);
  if (remoteName !== remoteName.toLowerCase()) {
    const reason = `repository name (${remoteName}) must be lowercase`;
    throw refuse(s, reason, `${INVALID_FORMAT}: ${reason}`);
  }

  const normalized = `${domain}/${remainder}`;
  const m = REFERENCE_RE.exec(normalized);
  if (!m) {
    const dockerMessage = REFERENCE_RE.test(normalized.toLowerCase()) ? 'repository name must be lowercase' : INVALID_FORMAT;
    throw refuse(s, explain(s) ?? dockerMessage, dockerMessage);
  }
  const name: string = m[1]!;
  const tag: string | undefined = m[2];
  const digest: string | undefined = m[3];
  if (name.length > NAME_TOTAL_MAX) {
    const reason = `repository name must not be more than ${NAME_TOTAL_MAX} characters`;
    throw refuse(s, reason, reason);
  }
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem !== undefined) {
      const only = problem === 'unsupported digest algorithm' ? ' (only sha256)' : '';
      throw refuse(s, `invalid digest ${JSON.stringify(digest)}: ${problem}${only}`, problem);
    }
  }
  const parts = NAME_RE.exec(name);
  if (!parts || parts[1] === undefined) throw refuse(s, `invalid registry host ${JSON.stringify(domain)}`, INVALID_FORMAT);

  const ref: Reference = { domain: parts[1], path: parts[2]! };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** Docker's ParseAnyReference: an image id (64 hex digits, with or without
 * "sha256:") or else a reference as parseReference reads it. */
export function parseReferenceOrId(s: string): Reference | IdReference {
  if (IDENTIFIER_RE.test(s)) return { id: `sha256:${s}` };
  if (isFullId(s)) return { id: s };
  return parseReference(s);
}

/** True for a complete image id: "sha256:" and 64 hex digits. */
export function isFullId(s: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(s);
}

/** True when `s` could be a (possibly shortened) image id: hex digits with
 * an optional "sha256:" prefix. A short hex string can also be a valid name;
 * callers look names up first, as Docker does. */
export function looksLikeIdPrefix(s: string): boolean {
  return /^(?:sha256:)?[a-f0-9]{1,64}$/.test(s);
}
