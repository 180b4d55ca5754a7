// --ulimit → process.rlimits. Unset limits are inherited from the daemon
// (through conmon and runc), as dockerd's containers inherit dockerd's.
import { invalid } from '../../errdefs/index.ts';
import type { Ulimit } from '../../engine/containers/types.ts';
import { ULIMIT_NAMES, type HostLimits, type UlimitName } from './types.ts';

/** RLIM_INFINITY in a spec object; toOciJson (json.ts) writes it as 2^64-1,
 * which a JavaScript number cannot hold. -1 is what Docker's API uses too. */
export const RLIM_INFINITY = -1;

const show = (n: number): string => (n === RLIM_INFINITY ? 'unlimited' : String(n));

export function buildRlimits(ulimits: Ulimit[] | null | undefined, hostLimits: HostLimits): Array<{ type: string; hard: number; soft: number }> {
  const byType = new Map<string, { type: string; hard: number; soft: number }>();
  for (const u of ulimits ?? []) {
    const name = String(u?.Name ?? '').toLowerCase() as UlimitName;
    if (!ULIMIT_NAMES.includes(name)) throw invalid(`invalid ulimit type: ${JSON.stringify(u?.Name ?? '')} (known: ${ULIMIT_NAMES.join(', ')})`);
    const { Soft: soft, Hard: hard } = u;
    for (const v of [soft, hard]) {
      if (!Number.isSafeInteger(v) || v < -1) throw invalid(`invalid ulimit ${name}: ${JSON.stringify(v)} is not a limit (use a non-negative number, or -1 for unlimited)`);
    }
    const hardInf = hard === RLIM_INFINITY;
    if (!hardInf && (soft === RLIM_INFINITY || soft > hard)) {
      throw invalid(`ulimit soft limit must be less than or equal to hard limit: ${name}=${show(soft)}:${show(hard)}`);
    }
    // Raising a hard limit needs CAP_SYS_RESOURCE, which joeyd may not have:
    // refuse here with a clear message rather than let runc fail with EPERM.
    const max = name === 'nofile' ? hostLimits.nofileHard : hostLimits[`${name}Hard`];
    if (max !== undefined && max !== Infinity && (hardInf || hard > max)) {
      throw invalid(`ulimit ${name}=${show(soft)}:${show(hard)} exceeds the daemon's hard limit ${max}`);
    }
    byType.set(name, { type: `RLIMIT_${name.toUpperCase()}`, hard, soft });
  }
  return [...byType.values()];
}
