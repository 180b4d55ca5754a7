// OCI annotations: the image-spec ones a runtime may use (stop signal, exposed
// ports), HostConfig.Annotations (Docker ≥ 24 passes them through), and
// joey's own, so that `runc state` alone says whose container this is.
import type { ContainerConfig, HostConfig } from '../../engine/containers/types.ts';
import type { ImageConfig } from '../../images/types.ts';

export function buildAnnotations(opts: { id: string; name?: string; imageRef?: string; image?: ImageConfig; config: ContainerConfig; hostConfig: HostConfig }): Record<string, string> {
  const out: Record<string, string> = {};
  const stopSignal = opts.config.StopSignal || opts.image?.StopSignal;
  if (stopSignal) out['org.opencontainers.image.stopSignal'] = stopSignal;
  const ports = Object.keys({ ...(opts.image?.ExposedPorts ?? {}), ...(opts.config.ExposedPorts ?? {}) });
  if (ports.length) out['org.opencontainers.image.exposedPorts'] = ports.sort().join(',');
  for (const [k, v] of Object.entries(opts.hostConfig.Annotations ?? {})) {
    if (typeof v === 'string') out[k] = v;
  }
  out['io.joey.container.id'] = opts.id;
  if (opts.name) out['io.joey.container.name'] = opts.name;
  if (opts.imageRef) out['io.joey.image'] = opts.imageRef;
  return out;
}
