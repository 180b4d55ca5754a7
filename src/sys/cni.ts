// Calling CNI plugins directly, as libcni would: the plugin binary from the
// plugin dir, the command and container in the environment, the network's
// JSON config on stdin, the result (or a CNI error) as JSON on stdout.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { JoeyError } from '../errdefs/index.ts';
import { run } from './exec.ts';

export const CNI_PLUGIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];

export interface CniInvocation {
  command: 'ADD' | 'DEL' | 'CHECK';
  containerId: string;
  netns: string;
  ifname: string;
  /** The plugin's config: `type` names the binary. */
  config: Record<string, unknown>;
}

export type CniExec = (inv: CniInvocation) => Promise<Record<string, unknown> | undefined>;

export function cniExec(pluginDirs: string[] = CNI_PLUGIN_DIRS): CniExec {
  return async (inv) => {
    const type = String(inv.config.type);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: inv.command,
      CNI_CONTAINERID: inv.containerId,
      CNI_NETNS: inv.netns,
      CNI_IFNAME: inv.ifname,
      CNI_PATH: pluginDirs.join(':'),
    };
    const dir = pluginDirs.find((d) => existsSync(join(d, type))) ?? pluginDirs[0]!;
    const r = await run(join(dir, type), [], { env, input: JSON.stringify(inv.config), allowFailure: true, timeoutMs: 60_000 });
    const out = r.stdout.trim();
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = out ? (JSON.parse(out) as Record<string, unknown>) : undefined;
    } catch {
      parsed = undefined;
    }
    if (r.code !== 0) {
      const msg = parsed && typeof parsed.msg === 'string' ? `${parsed.msg}${parsed.details ? `: ${String(parsed.details)}` : ''}` : r.stderr.trim() || out || `exit ${r.code}`;
      throw new JoeyError('internal', `CNI plugin ${type} ${inv.command}: ${msg}`);
    }
    return parsed;
  };
}
