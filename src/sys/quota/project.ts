// XFS and ext4 project quota: a project id on a directory (with the
// inheritance flag, so that everything made below it joins the project) and
// hard limits on that id.
//
// Through the filesystems' own tools rather than quotactl(2) and the
// FS_IOC_FSSETXATTR ioctl: Node has no binding for either without a native
// addon, the tools come from Debian packages joey already needs (xfsprogs,
// e2fsprogs, quota), and a command line is what an admin can rerun by hand.
//   XFS   xfs_quota -x -c 'project -s -p DIR ID' -c 'limit -p bhard=… ihard=… ID' MOUNTPOINT
//   ext4  chattr -p ID +P DIR; setquota -P ID 0 BLOCKS_KIB 0 INODES MOUNTPOINT
// ext4 needs the `project` and `quota` features (mkfs.ext4 -O quota,project,
// or tune2fs -O project,quota on an unmounted filesystem) and `-o prjquota`.
import { internal, invalid } from '../../errdefs/index.ts';
import { run as realRun, type ExecResult } from '../exec.ts';

export type ProjectFsType = 'xfs' | 'ext4';

/** The filesystem that holds the areas: its type and where it is mounted. */
export interface ProjectFs {
  type: ProjectFsType;
  mountpoint: string;
}

export interface ProjectSys {
  /** Puts `dir` (and what is already in it) in project `id`, with the
   * inheritance flag so that what is made below it joins the project. */
  assign(fs: ProjectFs, dir: string, id: number): Promise<void>;
  /** Hard limits for project `id`: bytes and inodes, 0 for none. */
  setLimit(fs: ProjectFs, id: number, bytes: number, inodes: number): Promise<void>;
}

export type Runner = (file: string, args: string[]) => Promise<ExecResult>;

const kib = (bytes: number): number => Math.ceil(bytes / 1024);

/** xfs_quota splits its -c commands at blanks and reports some failures
 * only on stderr, with exit status 0. */
async function xfsQuota(run: Runner, fs: ProjectFs, command: string): Promise<void> {
  const r = await run('xfs_quota', ['-x', '-c', command, fs.mountpoint]);
  if (r.stderr.trim() !== '') throw internal(`xfs_quota -x -c '${command}' ${fs.mountpoint}: ${r.stderr.trim()}`);
}

/** The command lines, over a runner that tests replace. */
export function projectSys(run: Runner = (f, a) => realRun(f, a)): ProjectSys {
  return {
    async assign(fs, dir, id) {
      if (fs.type === 'xfs') {
        // -s: set up the tree (flag and id on every inode below DIR, which
        // is empty or nearly so when joey calls it).
        if (/\s/.test(dir)) throw invalid(`cannot give ${JSON.stringify(dir)} an XFS project: xfs_quota cannot take a path with blanks`);
        await xfsQuota(run, fs, `project -s -p ${dir} ${id}`);
      } else {
        await run('chattr', ['-p', String(id), '+P', dir]);
      }
    },
    async setLimit(fs, id, bytes, inodes) {
      if (fs.type === 'xfs') {
        await xfsQuota(run, fs, `limit -p bhard=${kib(bytes)}k ihard=${inodes} ${id}`);
      } else {
        // setquota counts blocks in KiB: soft 0, hard; inodes soft 0, hard.
        await run('setquota', ['-P', String(id), '0', String(kib(bytes)), '0', String(inodes), fs.mountpoint]);
      }
    },
  };
}

export const realProjectSys: ProjectSys = projectSys();
