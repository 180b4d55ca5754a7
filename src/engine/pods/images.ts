// The CRI's ImageService over joey's images: one image store, shared with
// the Docker API (containerd keeps Kubernetes' images in a namespace of
// their own; joey has none).
import { invalid, is } from '../../errdefs/index.ts';
import type { ImageInspect, ImageService } from '../../images/types.ts';
import type { AuthConfig, Image, ImageSpec, Maybe } from './types.ts';

export function imageRef(spec: Maybe<ImageSpec>): string {
  const ref = spec?.image ?? '';
  if (!ref) throw invalid('image.image is required');
  return ref;
}

/** An image as the CRI shows it; uid or username from its config's user. */
export function toImage(img: { Id: string; RepoTags: string[]; RepoDigests: string[]; Size: number }, user?: string): Image {
  const u = (user ?? '').split(':')[0] ?? '';
  const numeric = /^\d+$/.test(u);
  return {
    id: img.Id,
    repo_tags: img.RepoTags ?? [],
    repo_digests: img.RepoDigests ?? [],
    size: img.Size,
    uid: numeric ? { value: u } : null,
    username: numeric ? '' : u,
    spec: { image: img.Id },
    pinned: false,
  };
}

export async function inspectImage(images: ImageService, ref: string): Promise<ImageInspect | undefined> {
  try {
    return await images.inspect(ref);
  } catch (e) {
    if (is(e, 'not-found')) return undefined;
    throw e;
  }
}

/** Pulls with the request's credentials; the image id is the reference kubelet keeps. */
export async function pullImage(images: ImageService, image: Maybe<ImageSpec>, auth?: Maybe<AuthConfig>): Promise<string> {
  const ref = imageRef(image);
  const a = auth
    ? {
        ...(auth.username ? { username: auth.username } : {}),
        ...(auth.password ? { password: auth.password } : {}),
        ...(auth.auth ? { auth: auth.auth } : {}),
        ...(auth.server_address ? { serveraddress: auth.server_address } : {}),
        ...(auth.identity_token ? { identitytoken: auth.identity_token } : {}),
        ...(auth.registry_token ? { registrytoken: auth.registry_token } : {}),
      }
    : undefined;
  return (await images.pull(ref, a ? { auth: a } : {})).id;
}

/** null when the image is not here: not an error in the CRI. */
export async function imageStatus(images: ImageService, image: Maybe<ImageSpec>): Promise<Image | null> {
  const img = await inspectImage(images, imageRef(image));
  return img ? toImage(img, img.Config?.User) : null;
}

export async function listImages(images: ImageService, filter?: Maybe<{ image?: Maybe<ImageSpec> }>): Promise<Image[]> {
  const want = filter?.image?.image;
  let id: string | undefined;
  if (want) {
    const img = await inspectImage(images, want);
    if (!img) return [];
    id = img.Id;
  }
  return (await images.list({})).filter((i) => !id || i.Id === id).map((i) => toImage(i));
}

/** The image goes with all its names, as the CRI removes by image; a missing one is fine. */
export async function removeImage(images: ImageService, image: Maybe<ImageSpec>): Promise<void> {
  const img = await inspectImage(images, imageRef(image));
  if (!img) return;
  try {
    await images.remove(img.Id, { force: true });
  } catch (e) {
    if (!is(e, 'not-found')) throw e;
  }
}
