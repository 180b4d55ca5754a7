// ContainerStats, ListContainerStats, PodSandboxStats, ListPodSandboxStats,
// ReopenContainerLog.
import type { Handlers } from './handler.ts';

export const statsHandlers: Handlers = {
  async ContainerStats(engine, req) {
    return { stats: await engine.pods.containerStats(req.container_id) };
  },
  async ListContainerStats(engine, req) {
    return { stats: await engine.pods.listContainerStats(req.filter) };
  },
  async PodSandboxStats(engine, req) {
    return { stats: await engine.pods.podSandboxStats(req.pod_sandbox_id) };
  },
  async ListPodSandboxStats(engine, req) {
    return { stats: await engine.pods.listPodSandboxStats(req.filter) };
  },
  async ReopenContainerLog(engine, req) {
    await engine.pods.reopenContainerLog(req.container_id);
    return {};
  },
};
