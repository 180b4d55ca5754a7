// Layer tarballs: the public face of src/archive.
export { applyLayer } from './apply.ts';
export { detectCompression } from './decompress.ts';
export type { ApplyLayer, ApplyOptions, ApplyResult, Compression } from './types.ts';
