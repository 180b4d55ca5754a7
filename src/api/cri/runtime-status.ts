// Version and Status.
import type { Handlers } from './handler.ts';

/** What VersionResponse.version holds: the kubelet API's version, which every
 * CRI runtime reports as this constant. */
const KUBELET_API_VERSION = '0.1.0';

export const statusHandlers: Handlers = {
  async Version(engine) {
    return { version: KUBELET_API_VERSION, ...engine.pods.version() };
  },
  async Status(engine) {
    return { status: { conditions: await engine.pods.status() }, info: {} };
  },
};
