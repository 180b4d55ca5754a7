// Finding a container by full id, name ("/name" too) or unique id prefix.
import { invalid, notFound } from '../../errdefs/index.ts';
import type { ContainerContext } from './context.ts';
import type { ContainerRecord } from './record.ts';

export function findContainer(cx: ContainerContext, idOrName: string): ContainerRecord {
  const s = idOrName.trim();
  if (!s) throw invalid('container name or id is empty');
  const byId = /^[a-f0-9]{64}$/.test(s) ? cx.store.get(s) : undefined;
  if (byId) return byId;
  const name = s.replace(/^\//, '');
  const named = cx.store.nameTaken(name);
  if (named) return cx.store.get(named)!;
  if (/^[a-f0-9]+$/.test(s)) {
    const matches = cx.store.all().filter((c) => c.id.startsWith(s));
    if (matches.length > 1) throw invalid(`multiple containers match the id prefix ${s}`);
    if (matches.length === 1) return matches[0]!;
  }
  throw notFound(`No such container: ${idOrName}`);
}
