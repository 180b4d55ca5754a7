// RunPodSandbox, StopPodSandbox, RemovePodSandbox, PodSandboxStatus, ListPodSandbox.
import type { Handlers } from './handler.ts';

export const sandboxHandlers: Handlers = {
  async RunPodSandbox(engine, req) {
    return { pod_sandbox_id: await engine.pods.runPodSandbox(req.config, req.runtime_handler) };
  },
  async StopPodSandbox(engine, req) {
    await engine.pods.stopPodSandbox(req.pod_sandbox_id);
    return {};
  },
  async RemovePodSandbox(engine, req) {
    await engine.pods.removePodSandbox(req.pod_sandbox_id);
    return {};
  },
  async PodSandboxStatus(engine, req) {
    return { status: await engine.pods.podSandboxStatus(req.pod_sandbox_id), info: {} };
  },
  async ListPodSandbox(engine, req) {
    return { items: await engine.pods.listPodSandbox(req.filter) };
  },
};
