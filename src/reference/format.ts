// Printing references the two ways Docker prints them: full
// ("docker.io/library/busybox:latest") and familiar ("busybox:latest").
import { DEFAULT_DOMAIN } from './parse.ts';
import type { Reference } from './types.ts';

const OFFICIAL_PREFIX = 'library/';

/** "docker.io/library/busybox" */
export function fullName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The name as users type it: "busybox", "team/app", "127.0.0.1:5000/x". */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return fullName(ref);
  const rest = ref.path.startsWith(OFFICIAL_PREFIX) ? ref.path.slice(OFFICIAL_PREFIX.length) : ref.path;
  // "library/a/b" keeps its prefix: dropping it would change the meaning.
  return rest.includes('/') ? ref.path : rest;
}

function suffix(ref: Reference): string {
  return (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** "docker.io/library/busybox:latest", "...@sha256:..." */
export function formatReference(ref: Reference): string {
  return fullName(ref) + suffix(ref);
}

/** "busybox:latest", "127.0.0.1:5000/x@sha256:..." */
export function familiarString(ref: Reference): string {
  return familiarName(ref) + suffix(ref);
}

/** True when the reference names neither tag nor digest: "busybox". */
export function isNameOnly(ref: Reference): boolean {
  return ref.tag === undefined && ref.digest === undefined;
}

/** Adds the tag "latest" when the reference names neither tag nor digest
 * (Docker's TagNameOnly). */
export function withDefaultTag(ref: Reference): Reference {
  return isNameOnly(ref) ? { ...ref, tag: 'latest' } : ref;
}
