// Parsing image references with Docker's normalization rules
// (distribution/reference), so that names mean what they mean to `docker`.
import { invalid } from '../errdefs/index.ts';
import type { Reference } from './types.ts';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const NAME_TOTAL_MAX = 255;

const NAME_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_LABEL = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
// Any algorithm:encoded pair, to tell "unsupported" from "malformed".
const ANY_DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const FULL_HEX_ID = /^[a-f0-9]{64}$/;

function bad(input: string, why: string): Error {
  return invalid(`invalid reference format: ${JSON.stringify(input)}: ${why}`);
}

/** Parses "name[:tag][@digest]" into a normalized reference. Does not add a
 * default tag (see withDefaultTag). Throws `invalid` naming the input. */
export function parseReference(s: string): Reference {
  if (s === '') throw bad(s, 'empty reference');
  // An image id is not a name; Docker refuses it so it is not pulled as one.
  if (FULL_HEX_ID.test(s)) throw invalid(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);

  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!SHA256_DIGEST.test(digest)) {
      if (digest.startsWith('sha256:')) throw bad(s, `invalid digest "${digest}" (want sha256: and 64 lowercase hex digits)`);
      if (ANY_DIGEST.test(digest)) throw bad(s, `unsupported digest algorithm in "${digest}" (only sha256)`);
      throw bad(s, `invalid digest "${digest}"`);
    }
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(s, `invalid tag "${tag}" (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')`);
  }
  if (rest === '') throw bad(s, 'missing repository name');

  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      domain = first;
      path = rest.slice(slash + 1);
      if (!DOMAIN.test(domain)) throw bad(s, `invalid registry host "${domain}"`);
    }
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && path !== '' && !path.includes('/')) path = OFFICIAL_PREFIX + path;

  if (path === '') throw bad(s, 'missing repository name');
  if (path !== path.toLowerCase()) throw bad(s, `repository name (${path}) must be lowercase`);
  for (const component of path.split('/')) {
    if (!NAME_COMPONENT.test(component)) {
      throw bad(s, component === '' ? 'empty path component in repository name' : `invalid repository name component "${component}"`);
    }
  }
  if (domain.length + 1 + path.length > NAME_TOTAL_MAX) throw bad(s, `repository name must not be longer than ${NAME_TOTAL_MAX} characters`);

  const ref: Reference = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
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
