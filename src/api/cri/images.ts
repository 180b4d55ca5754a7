// The ImageService: PullImage, ImageStatus, ListImages, RemoveImage, ImageFsInfo.
import type { Handlers } from './handler.ts';

export const imageHandlers: Handlers = {
  async PullImage(engine, req) {
    return { image_ref: await engine.pods.pullImage(req.image, req.auth) };
  },
  async ImageStatus(engine, req) {
    return { image: await engine.pods.imageStatus(req.image), info: {} };
  },
  async ListImages(engine, req) {
    return { images: await engine.pods.listImages(req.filter) };
  },
  async RemoveImage(engine, req) {
    await engine.pods.removeImage(req.image);
    return {};
  },
  async ImageFsInfo(engine) {
    return { image_filesystems: await engine.pods.imageFsInfo(), container_filesystems: [] };
  },
};
