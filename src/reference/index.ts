export type { IdReference, Reference } from './types.ts';
export { InvalidReferenceError } from './errors.ts';
export { DEFAULT_DOMAIN, parseReference, parseReferenceOrId, isFullId, looksLikeIdPrefix } from './parse.ts';
export { familiarName, familiarString, formatReference, fullName, isNameOnly, withDefaultTag } from './format.ts';
