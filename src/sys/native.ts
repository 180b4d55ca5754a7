// The native system calls of src/sys/native/joey-sys.c, built by
// scripts/build.mjs into dist/native/. Optional: without a C compiler at
// build time (or with JOEY_NO_NATIVE=1) there is no addon, and callers use
// the binaries instead.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface NativeSys {
  /** mount(2); throws an Error with .code set to the errno's name. */
  mount(source: string, target: string, fstype: string | null, flags: number, data: string | null): void;
  /** umount2(2); throws as mount. */
  umount(target: string, flags: number): void;
  // Extended attributes of a descriptor (a number) or of a path whose last
  // component is not followed (a string); they throw as mount does.
  /** The attribute names; [] on a filesystem without xattrs. */
  xattrList(target: number | string): string[];
  /** One attribute's value; null when it is absent or unsupported. */
  xattrGet(target: number | string, name: string): Buffer | null;
  xattrSet(target: number | string, name: string, value: Buffer): void;
}

/** mount(2) flags (linux/mount.h). */
export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  DIRSYNC: 0x80,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  REC: 0x4000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
} as const;

export const MNT_DETACH = 0x2;

let loaded: NativeSys | null | undefined;

/** Where the build puts the native files, seen from here: src/sys/ (tsx), dist/ or dist/chunks/ (the bundle). */
const NATIVE_DIRS = ['../../dist/native/', './native/', '../native/'];

/** The path of a native program built beside the addon (joey-nsmount), or null when it was not built. */
export function nativeProgram(name: string): string | null {
  for (const rel of NATIVE_DIRS) {
    const file = fileURLToPath(new URL(rel + name, import.meta.url));
    if (existsSync(file)) return file;
  }
  return null;
}

/** The addon, or null when it was not built (or JOEY_NO_NATIVE is set). */
export function nativeSys(): NativeSys | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.env.JOEY_NO_NATIVE) return loaded;
  for (const rel of NATIVE_DIRS) {
    const file = fileURLToPath(new URL(rel + 'joey-sys.node', import.meta.url));
    if (!existsSync(file)) continue;
    try {
      loaded = createRequire(import.meta.url)(file) as NativeSys;
    } catch {
      loaded = null; // built for another node: the binaries will do
    }
    break;
  }
  return loaded;
}
