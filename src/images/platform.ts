// Platforms: parsing "os/arch[/variant]" and choosing a manifest from an index.
import { invalid } from '../errdefs/index.ts';
import type { Platform } from '../remotes/types.ts';

const ARCH_ALIASES: Record<string, { architecture: string; variant?: string }> = {
  x86_64: { architecture: 'amd64' },
  'x86-64': { architecture: 'amd64' },
  aarch64: { architecture: 'arm64' },
  armhf: { architecture: 'arm', variant: 'v7' },
  armel: { architecture: 'arm', variant: 'v6' },
  i386: { architecture: '386' },
};

function normalizeArch(arch: string, variant?: string): { architecture: string; variant?: string } {
  const a = ARCH_ALIASES[arch];
  const out = a ? { ...a } : { architecture: arch, variant };
  if (variant) out.variant = variant;
  if (out.architecture === 'arm64' && out.variant === 'v8') delete out.variant;
  if (out.architecture === 'arm' && !out.variant) out.variant = 'v7';
  if (out.architecture === 'amd64' && out.variant === 'v1') delete out.variant;
  return out;
}

export function hostPlatform(): Platform {
  const archMap: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: archMap[process.arch] ?? process.arch };
}

/** Parses "linux/amd64", "linux/arm/v7", "amd64", "linux". */
export function parsePlatform(spec: string): Platform {
  const parts = spec.trim().toLowerCase().split('/');
  if (parts.some((p) => !/^[a-z0-9._-]+$/.test(p)) || parts.length > 3) {
    throw invalid(`invalid platform "${spec}": expected os[/arch[/variant]]`);
  }
  const host = hostPlatform();
  let os = host.os;
  let arch = host.architecture;
  let variant: string | undefined;
  if (parts.length === 1) {
    if (parts[0] === 'linux' || parts[0] === 'windows' || parts[0] === 'darwin') os = parts[0];
    else arch = parts[0]!;
  } else {
    os = parts[0]!;
    arch = parts[1]!;
    variant = parts[2];
  }
  if (os !== 'linux') throw invalid(`platform "${spec}" is not supported: joey runs linux images only`);
  const n = normalizeArch(arch, variant);
  return n.variant ? { os, architecture: n.architecture, variant: n.variant } : { os, architecture: n.architecture };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Whether an index entry's platform satisfies the wanted one. A wanted
 * platform without a variant accepts the variant the index offers first. */
export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (!have) return false;
  const h = normalizeArch(have.architecture, have.variant);
  if (have.os !== want.os || h.architecture !== want.architecture) return false;
  if (want.variant && h.variant && want.variant !== h.variant) return false;
  return true;
}
