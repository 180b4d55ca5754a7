// Hostile images: layers and manifests that a careful puller must refuse.
// Each case is put in a registry with `pushRaw` (the registry stores what it is
// given) or, for bytes the registry itself would refuse to store, served by the
// counting proxy in front of it in place of a valid image's response.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { MT, digestOf, type Descriptor } from './oci-layout.ts';
import { defaultConfig, pushIndex, pushRaw } from './images.ts';
import type { RegistryProxy } from './proxy.ts';
import type { Registry } from './registry.ts';
import { tarBuffer, tarGz, type TarEntry } from './tar.ts';

export interface HostileImage {
  /** What to pull: PROXYHOST/REPO:TAG. */
  ref: string;
  repo: string;
  /** Strings of which the pull error must contain at least one (an entry name, a digest, a platform). */
  mentions: string[];
  /** Files that must not exist after the pull (an escape target). */
  sentinels: string[];
}

export type HostileCase =
  | 'dotdot' | 'absolute' | 'symlink-escape' | 'hardlink-passwd' | 'device'
  | 'digest-mismatch' | 'size-mismatch' | 'diffid-mismatch' | 'manifest-not-json' | 'wrong-mediatype' | 'no-amd64';

export const HOSTILE_CASES: HostileCase[] = [
  'dotdot', 'absolute', 'symlink-escape', 'hardlink-passwd', 'device',
  'digest-mismatch', 'size-mismatch', 'diffid-mismatch', 'manifest-not-json', 'wrong-mediatype', 'no-amd64',
];

const BENIGN: TarEntry[] = [
  { name: 'etc/', type: 'directory' },
  { name: 'etc/hostname', type: 'file', content: 'hostile\n' },
];

/** A fresh path whose existence after a pull proves an escape. */
export const escapeSentinel = (): string => `/tmp/joey-escape-${randomBytes(6).toString('hex')}`;

/** Puts the case in the registry (and the proxy's overrides) and says what to pull and expect. */
export async function pushHostile(reg: Registry, proxy: RegistryProxy, kind: HostileCase): Promise<HostileImage> {
  const repo = `hostile/${kind}`;
  const ref = `${proxy.host}/${repo}:latest`;
  const sentinel = escapeSentinel();
  const sentinelName = sentinel.slice(1); // tmp/joey-escape-…
  const layerOf = async (entries: TarEntry[]): Promise<Buffer> => tarGz([...BENIGN, ...entries]);

  switch (kind) {
    case 'dotdot': {
      const name = `../../../../../../../../../..${sentinel}`;
      await pushRaw(reg, repo, 'latest', { layers: [await layerOf([{ name, type: 'file', content: 'escaped\n' }])] });
      return { ref, repo, mentions: [name, sentinelName.split('/').pop()!], sentinels: [sentinel] };
    }
    case 'absolute': {
      await pushRaw(reg, repo, 'latest', { layers: [await layerOf([{ name: sentinel, type: 'file', content: 'escaped\n' }])] });
      return { ref, repo, mentions: [sentinel, sentinelName], sentinels: [sentinel] };
    }
    case 'symlink-escape': {
      // A symlink to the host's /tmp, then a file written through it.
      const name = `escape/${sentinel.split('/').pop()}`;
      await pushRaw(reg, repo, 'latest', {
        layers: [await layerOf([
          { name: 'escape', type: 'symlink', linkname: '/tmp' },
          { name, type: 'file', content: 'escaped\n' },
        ])],
      });
      return { ref, repo, mentions: [name, 'escape'], sentinels: [sentinel] };
    }
    case 'hardlink-passwd': {
      await pushRaw(reg, repo, 'latest', {
        layers: [await layerOf([
          { name: 'etc/passwd-link', type: 'link', linkname: '../../../../../../../../etc/passwd' },
          { name: 'etc/passwd-abs', type: 'link', linkname: '/etc/passwd' },
        ])],
      });
      return { ref, repo, mentions: ['etc/passwd-link', 'etc/passwd-abs', '/etc/passwd'], sentinels: [] };
    }
    case 'device': {
      await pushRaw(reg, repo, 'latest', {
        layers: [await layerOf([
          { name: 'dev/', type: 'directory' },
          { name: 'dev/joey-sda', type: 'block-device', mode: 0o660, devmajor: 8, devminor: 0 },
          { name: 'dev/joey-mem', type: 'character-device', mode: 0o640, devmajor: 1, devminor: 1 },
        ])],
      });
      return { ref, repo, mentions: ['dev/joey-sda', 'dev/joey-mem'], sentinels: [] };
    }
    case 'digest-mismatch': {
      // The registry holds a valid image; the proxy serves other bytes of the same length for its
      // layer (gzip level 0 stores the tar as is, so equal tars give equal lengths).
      const stored = async (content: string): Promise<Buffer> =>
        gzipSync(await tarBuffer([...BENIGN, { name: 'etc/real', type: 'file', content }]), { level: 0 });
      const layer = await stored('real\n');
      const pushed = await pushRaw(reg, repo, 'latest', { layers: [layer] });
      const digest = pushed.layers[0]!.digest;
      const evil = await stored('evil\n');
      if (evil.length !== layer.length) throw new Error('digest-mismatch: the two layers differ in length');
      proxy.override((m, p) => (m === 'GET' || m === 'HEAD') && p === `/v2/${repo}/blobs/${digest}`, {
        headers: { 'content-type': 'application/octet-stream', 'docker-content-digest': digest },
        body: evil,
      });
      return { ref, repo, mentions: [digest, digest.slice(7, 19)], sentinels: [] };
    }
    case 'size-mismatch': {
      // The proxy serves more bytes for the layer than the manifest declares.
      const layer = await layerOf([{ name: 'etc/real', type: 'file', content: 'real\n' }]);
      const pushed = await pushRaw(reg, repo, 'latest', { layers: [layer] });
      const digest = pushed.layers[0]!.digest;
      const evil = await layerOf([{ name: 'etc/real', type: 'file', content: 'a longer and different content\n'.repeat(40) }]);
      proxy.override((m, p) => (m === 'GET' || m === 'HEAD') && p === `/v2/${repo}/blobs/${digest}`, {
        headers: { 'content-type': 'application/octet-stream', 'docker-content-digest': digest },
        body: evil,
      });
      return { ref, repo, mentions: [digest, digest.slice(7, 19)], sentinels: [] };
    }
    case 'diffid-mismatch': {
      const layer = await layerOf([{ name: 'etc/real', type: 'file', content: 'real\n' }]);
      const wrong = digestOf('not the layer');
      const config = defaultConfig([layer], MT.ociLayerGzip, { rootfs: { type: 'layers', diff_ids: [wrong] } });
      await pushRaw(reg, repo, 'latest', { layers: [layer], config });
      return { ref, repo, mentions: [wrong, wrong.slice(7, 19), 'diff'], sentinels: [] };
    }
    case 'manifest-not-json': {
      await pushRaw(reg, repo, 'latest', { layers: [await layerOf([])] });
      const body = Buffer.from('this is not a manifest {');
      proxy.override((m, p) => (m === 'GET' || m === 'HEAD') && p === `/v2/${repo}/manifests/latest`, {
        headers: { 'content-type': MT.ociManifest, 'docker-content-digest': digestOf(body) },
        body,
      });
      return { ref, repo, mentions: ['manifest', 'JSON', 'json'], sentinels: [] };
    }
    case 'wrong-mediatype': {
      const pushed = await pushRaw(reg, repo, 'latest', { layers: [await layerOf([])] });
      const bogus = 'application/vnd.joey.test.bogus+json';
      const manifest = { ...(JSON.parse(pushed.manifest.toString()) as object), mediaType: bogus };
      const body = Buffer.from(JSON.stringify(manifest));
      proxy.override((m, p) => (m === 'GET' || m === 'HEAD') && p === `/v2/${repo}/manifests/latest`, {
        headers: { 'content-type': bogus, 'docker-content-digest': digestOf(body) },
        body,
      });
      return { ref, repo, mentions: [bogus, 'media type', 'mediaType', 'mediatype'], sentinels: [] };
    }
    case 'no-amd64': {
      const children: Descriptor[] = [];
      for (const [architecture, variant] of [['arm64', undefined], ['arm', 'v7'], ['s390x', undefined]] as const) {
        const layer = await layerOf([{ name: 'etc/arch', type: 'file', content: `${architecture}\n` }]);
        const config = defaultConfig([layer], MT.ociLayerGzip, { architecture, ...(variant ? { variant } : {}) });
        const p = await pushRaw(reg, repo, `only-${architecture}`, { layers: [layer], config });
        children.push({ mediaType: p.mediaType, digest: p.digest, size: p.manifest.length, platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) } });
      }
      await pushIndex(reg, repo, 'latest', children);
      return { ref, repo, mentions: ['linux/amd64', 'amd64'], sentinels: [] };
    }
  }
}
