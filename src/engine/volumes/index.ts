export { ANONYMOUS_LABEL, Volumes, mountPointOf, needsMount, realVolumeSys, type InheritedMounts, type PreparedMounts, type VolumeSys, type VolumesDeps } from './service.ts';
export { parseBind, parseMountSpec, parseVolumesFrom, planMounts, type MountRequest } from './parse.ts';
export type { ContainerMount, Volume, VolumeCreateRequest, VolumePruneReport, VolumeRecord, VolumeService } from './types.ts';
