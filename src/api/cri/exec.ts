// ExecSync; Exec, Attach and PortForward, which need a streaming server
// that joey does not have yet.
import { notImplemented } from '../../errdefs/index.ts';
import type { Handlers } from './handler.ts';

const streaming = (rpc: string) => async (): Promise<object> => {
  throw notImplemented(`${rpc} is not implemented: joey's CRI has no streaming server yet (use ExecSync, or the Docker API's exec and attach)`);
};

export const execHandlers: Handlers = {
  async ExecSync(engine, req) {
    return engine.pods.execSync(req.container_id, req.cmd, req.timeout);
  },
  Exec: streaming('Exec'),
  Attach: streaming('Attach'),
  PortForward: streaming('PortForward'),
};
