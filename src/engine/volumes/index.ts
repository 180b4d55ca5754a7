export { ANONYMOUS_LABEL, Volumes, mountPointOf, type PreparedMounts, type VolumesDeps } from './service.ts';
export { parseBind, parseMountSpec, planMounts, type MountRequest } from './parse.ts';
export type { ContainerMount, Volume, VolumeRecord, VolumeService } from './types.ts';
