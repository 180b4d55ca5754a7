// CreateContainer, StartContainer, StopContainer, RemoveContainer,
// ListContainers, ContainerStatus, UpdateContainerResources.
import type { Handlers } from './handler.ts';

export const containerHandlers: Handlers = {
  async CreateContainer(engine, req) {
    return { container_id: await engine.pods.createContainer(req.pod_sandbox_id, req.config, req.sandbox_config) };
  },
  async StartContainer(engine, req) {
    await engine.pods.startContainer(req.container_id);
    return {};
  },
  async StopContainer(engine, req) {
    await engine.pods.stopContainer(req.container_id, req.timeout);
    return {};
  },
  async RemoveContainer(engine, req) {
    await engine.pods.removeContainer(req.container_id);
    return {};
  },
  async ListContainers(engine, req) {
    return { containers: await engine.pods.listContainers(req.filter) };
  },
  async ContainerStatus(engine, req) {
    return { status: await engine.pods.containerStatus(req.container_id), info: {} };
  },
  async UpdateContainerResources(engine, req) {
    await engine.pods.updateContainerResources(req.container_id, req.linux);
    return {};
  },
};
