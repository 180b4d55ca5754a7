// --sysctl → linux.sysctl. Only sysctls that belong to a namespace the
// container owns may be set (Docker's list): others would change the host.
import { invalid } from '../../errdefs/index.ts';

/** Set for every container with its own network namespace, as Docker does:
 * binding low ports and ping need no capability inside the container. */
export const DEFAULT_NET_SYSCTLS: Record<string, string> = {
  'net.ipv4.ip_unprivileged_port_start': '0',
  'net.ipv4.ping_group_range': '0 2147483647',
};

const isIpc = (k: string): boolean => k.startsWith('kernel.msg') || k.startsWith('kernel.shm') || k === 'kernel.sem' || k.startsWith('fs.mqueue.');
const isNet = (k: string): boolean => k.startsWith('net.');

export function buildSysctls(
  sysctls: Record<string, string> | null | undefined,
  ns: { hostNetwork: boolean; sharedNetwork: boolean; hostIpc: boolean },
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!ns.hostNetwork && !ns.sharedNetwork) Object.assign(out, DEFAULT_NET_SYSCTLS);
  for (const [key, value] of Object.entries(sysctls ?? {})) {
    // "net/ipv4/conf/eth0.100/forwarding" is how one names an interface with a dot.
    if (!/^[A-Za-z0-9_.\/:@-]+$/.test(key) || key.split(/[./]/).some((c) => c === '' || c === '..')) {
      throw invalid(`invalid sysctl name ${JSON.stringify(key)}`);
    }
    if (typeof value !== 'string' || /[\0\n]/.test(value)) throw invalid(`invalid value for sysctl ${key}: ${JSON.stringify(value)}`);
    const dotted = key.includes('/') ? key.replaceAll('/', '.') : key;
    if (isNet(dotted)) {
      if (ns.hostNetwork) throw invalid(`sysctl ${key} is not allowed when using the host network`);
    } else if (isIpc(dotted)) {
      if (ns.hostIpc) throw invalid(`sysctl ${key} is not allowed when using the host IPC namespace`);
    } else {
      throw invalid(`sysctl ${key} is not allowed: only namespaced sysctls can be set (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*)`);
    }
    out[key] = value;
  }
  return out;
}
