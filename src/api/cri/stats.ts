// ContainerStats, ListContainerStats, ReopenContainerLog.
import type { Handlers } from './handler.ts';

export const statsHandlers: Handlers = {
  async ContainerStats(engine, req) {
    return { stats: await engine.pods.containerStats(req.container_id) };
  },
  async ListContainerStats(engine, req) {
    return { stats: await engine.pods.listContainerStats(req.filter) };
  },
  async ReopenContainerLog(engine, req) {
    await engine.pods.reopenContainerLog(req.container_id);
    return {};
  },
};
