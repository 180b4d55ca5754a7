// joey tag SOURCE TARGET
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { escapePath } from '../client/client.ts';
import { InvalidReferenceError, fullName, parseReference, parseReferenceOrId, withDefaultTag } from '../reference/index.ts';

function invalidRef(s: string, err: unknown): StatusError {
  const why = err instanceof InvalidReferenceError ? err.dockerMessage : String(err);
  return new StatusError(`Error parsing reference: ${JSON.stringify(s)} is not a valid repository/tag: ${why}`);
}

export async function runTag(cli: Cli, source: string, target: string): Promise<void> {
  try {
    parseReferenceOrId(source);
  } catch (err) {
    throw invalidRef(source, err);
  }
  let ref;
  try {
    ref = parseReference(target);
  } catch (err) {
    throw invalidRef(target, err);
  }
  if (ref.digest !== undefined) throw new StatusError('refusing to create a tag with a digest reference');
  ref = withDefaultTag(ref);
  const res = await cli.client.stream('POST', `/images/${escapePath(source)}/tag`, {
    query: { repo: fullName(ref), tag: ref.tag },
  });
  res.resume();
}
