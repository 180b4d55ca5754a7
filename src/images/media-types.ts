// Media types of the Docker schema-2 and OCI image formats.
export const MT = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerForeign: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerLayerTar: 'application/vnd.docker.image.rootfs.diff.tar',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistTar: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  schema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  schema1: 'application/vnd.docker.distribution.manifest.v1+json',
} as const;

export function isIndex(mt: string): boolean {
  return mt === MT.dockerManifestList || mt === MT.ociIndex;
}

export function isManifest(mt: string): boolean {
  return mt === MT.dockerManifest || mt === MT.ociManifest;
}

export function isLayer(mt: string): boolean {
  return (
    mt === MT.dockerLayerGzip ||
    mt === MT.dockerLayerTar ||
    mt === MT.dockerLayerForeign ||
    mt.startsWith('application/vnd.oci.image.layer.')
  );
}

export function isConfig(mt: string): boolean {
  return mt === MT.dockerConfig || mt === MT.ociConfig;
}
