export type { Reference } from './types.ts';
export { DEFAULT_DOMAIN, parseReference, isFullId, looksLikeIdPrefix } from './parse.ts';
export { familiarName, familiarString, formatReference, fullName, withDefaultTag } from './format.ts';
