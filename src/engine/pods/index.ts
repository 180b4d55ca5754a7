export { Pods, containerStateOf, reasonOf, podIpOf, type PodDeps } from './service.ts';
export { OWN_PAUSE_IMAGE } from './pause-image.ts';
export type * from './types.ts';
