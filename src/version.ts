// Versions joey reports. The Docker API range lives here, not in the adapter,
// because /version and /info report it too.
export const VERSION = '0.1.0';
export const GIT_COMMIT = process.env.JOEY_GIT_COMMIT ?? 'unknown';
export const API_VERSION = '1.47';
export const MIN_API_VERSION = '1.24';
export const BUILD_TIME = process.env.JOEY_BUILD_TIME ?? '';
