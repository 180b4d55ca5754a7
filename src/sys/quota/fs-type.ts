// What filesystem a path sits on, from statfs(2)'s magic number: the quota
// backend follows from it.
import { statfs } from 'node:fs/promises';

const MAGIC: Record<number, string> = {
  0x9123683e: 'btrfs',
  0x58465342: 'xfs',
  0xef53: 'ext4', // ext2/3/4 share it
  0x01021994: 'tmpfs',
  0x794c7630: 'overlay',
};

export async function filesystemType(path: string): Promise<string> {
  const st = await statfs(path);
  return MAGIC[st.type] ?? `0x${st.type.toString(16)}`;
}
