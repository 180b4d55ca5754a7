// The build module's boundary: the service and its wiring.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageContext } from '../../images/context.ts';
import type { ImageService } from '../../images/types.ts';
import type { ContainerContext } from '../containers/context.ts';
import type { ContainerService } from '../containers/types.ts';
import type { Database } from '../../metadata/db.ts';
import { Builder } from './builder.ts';
import { BuildCache } from './cache.ts';

export type { BuildCachePruneOptions, BuildCachePruneReport, BuildOptions, BuildResult, BuildService } from './types.ts';
export { BuildStepError } from './types.ts';

export async function createBuilder(deps: { dataRoot: string; db: Database; cx: ContainerContext; containers: ContainerService; images: ImageService; imageCtx: ImageContext }): Promise<Builder> {
  const dir = join(deps.dataRoot, 'build');
  const contextRoot = join(dir, 'contexts');
  // Contexts of builds a crash interrupted.
  await rm(contextRoot, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const cache = new BuildCache(deps.db);
  deps.imageCtx.isIntermediate = (id) => cache.isParent(id);
  return new Builder({ ...deps, contextRoot, cache });
}
