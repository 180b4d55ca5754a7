// The metadata schema: the one place where joey's on-disk records are written
// down. Change it only by appending a migration; never edit one that shipped.
//
// data-root/
// ├── content/blobs/sha256/<hex>     blobs, on disk, not in this database. A blob
// │                                  lives while an image reaches it (its manifest,
// │                                  its config, its layers); garbage collection
// │                                  deletes the rest.
// ├── snapshots/<id>/{fs,work}       overlay directories, one per snapshots row,
// │                                  named by snapshots.id
// ├── quota/{containers,volumes}/<id or name>.img
// │                                  disk-quota images of the loop backend (ext4,
// │                                  loop-mounted on the container's snapshot
// │                                  directory or the volume's _data); which
// │                                  containers and volumes have one is in their
// │                                  records (Config.DiskQuota, options.size), so
// │                                  no table: start-up deletes an image whose
// │                                  owner has no record
// └── joey.db                        this schema:
//
//     schema_migrations              one row per applied migration
//     ├── version                    MIGRATIONS[i].version
//     └── applied_at                 unix ms
//
//     snapshots                      one row per overlay snapshot
//     ├── id                         AUTOINCREMENT, never reused: names the directory
//     ├── key                        unique name: a chain id for a committed layer,
//     │                              a container id or a temporary key for an active one
//     ├── parent_id → snapshots.id   the layer below; RESTRICT: a parent stays while
//     │                              children exist
//     ├── kind                       active (upper+work, writable) | view (read-only)
//     │                              | committed (an immutable layer)
//     ├── size                       bytes of this snapshot's own diff
//     ├── labels                     JSON object of strings ("joey.unpack" marks a
//     │                              layer being unpacked: start-up drops it)
//     └── created_at                 unix ms
//     Snapshots are referenced by images.chain_id (the top layer of an image),
//     by image_layers.chain_id, and by each other's parent_id.
//
//     images                         one row per image, keyed by its config digest
//     ├── id                         "sha256:<config digest hex>"
//     ├── manifest_digest, manifest_media_type, manifest_size
//     │                              the platform manifest that was pulled or loaded
//     ├── chain_id                   key of the top committed snapshot; NULL for an
//     │                              image with no layers
//     ├── size                       sum of the layers' unpacked sizes
//     ├── created                    the config's "created" (RFC 3339), as given
//     ├── added_at                   unix ms
//     └── last_tag_time              unix ms of the last tag, NULL if never tagged
//     ├── image_layers               the manifest's layers, bottom first
//     │   ├── (image_id, idx)        CASCADE on image delete
//     │   ├── blob_digest, blob_size, media_type   the compressed blob in content/
//     │   ├── diff_id                sha256 of the uncompressed tar
//     │   └── chain_id               key of the committed snapshot for layers 0..idx
//     ├── image_tags                 "docker.io/library/busybox:latest" → image
//     │   └── name, image_id, created_at           CASCADE on image delete
//     └── image_digests              "docker.io/library/busybox@sha256:…" → image
//         └── name, image_id, created_at           CASCADE on image delete
//
//     containers                     one row per container (migration 2)
//     ├── id                         64 hex; also the key of its active snapshot
//     ├── name                       unique, without the leading "/"
//     ├── image_id → images.id       no foreign key: `rmi -f` may untag an image in
//     │                              use, and the image record stays while a
//     │                              container uses it (checked in code)
//     ├── image_ref                  the image as the user named it
//     ├── created_at                 RFC 3339
//     ├── config, host_config        JSON: the Docker API's Config and HostConfig
//     ├── state                      JSON: the Docker API's State (status, pid,
//     │                              exit code, times, health); rewritten on change
//     ├── runtime                    the OCI runtime's name ("runc")
//     ├── restart_count
//     ├── monitor_pid, monitor_start conmon's pid and its start time (clock ticks
//     │                              from /proc/PID/stat), to re-attach after a
//     │                              daemon restart without trusting a reused pid
//     └── manually_stopped           1 after a user stop: unless-stopped and always
//                                    then leave it down until the next start
//     Paths are derived from the id: the bundle and rootfs mount under the exec
//     root, logs and hosts/hostname/resolv.conf under data-root/containers/<id>.
//
//     volumes                        one row per volume (migration 3)
//     ├── name                       unique: 64 hex for an anonymous one, or the user's
//     ├── driver                     "local": data in data-root/volumes/<name>/_data
//     ├── mountpoint                 host path of the data directory
//     ├── labels, options            JSON objects of strings; options are the local
//     │                              driver's (type, device, o): such a volume is
//     │                              mounted on its _data while a running container
//     │                              uses it (who does is kept in memory, rebuilt
//     │                              at start-up from the running containers)
//     ├── anonymous                  1 for one made for a container (image VOLUME,
//     │                              `-v /path`): `rm -v` removes it with that container
//     └── created_at                 RFC 3339
//     container_mounts               a container's binds, volumes and --mount tmpfs,
//     │                              resolved at create (migration 3)
//     ├── (container_id, destination)  CASCADE on container delete
//     ├── type                       bind | volume | tmpfs
//     ├── volume → volumes.name      RESTRICT: a volume in use stays
//     └── mount                      JSON: the Docker MountPoint inspect shows, plus
//                                    the runtime's options (non-recursive, copy, tmpfs)
//
//     networks                       one row per network (migration 4), the built-in
//     │                              bridge, host and none included
//     ├── id                         64 hex
//     ├── name                       unique
//     ├── driver                     bridge | host | null
//     ├── bridge                     the host bridge's name (per daemon: joey0 or
//     │                              jbr-<id prefix>); '' for host and none
//     ├── subnet, gateway, ip_range  IPv4 CIDR, address, CIDR ('' when not set)
//     ├── enable_ipv6                1: endpoints get an IPv6 address too (migration 8)
//     ├── enable_ipv4                0: an IPv6-only network, subnet '' (migration 9)
//     ├── subnet6, gateway6, ip_range6   the same for IPv6 (migration 8; '' when not set)
//     ├── internal                   1: no outbound NAT, no default route
//     ├── labels, options            JSON objects of strings
//     └── created_at                 RFC 3339
//     endpoints                      a container's attachment to a network (migration 4)
//     ├── (container_id, network_id) CASCADE on container or network delete
//     ├── idx                        attach order: 0 is the NetworkMode's network (eth0)
//     ├── config                     JSON: aliases, requested IPv4/IPv6 and MAC address
//     └── state                      JSON while the container runs: netns, interface,
//                                    address, gateway, MAC, published ports and the
//                                    CNI configs that ADD used (DEL replays them);
//                                    NULL when stopped. host-local's leases live in
//                                    data-root/network/ipam, keyed by container id.
//
//     container_upgrades             one row per in-place upgrade (migration 5): the
//     │                              history inspect shows, and while `outcome` is
//     │                              NULL the marker start-up finishes or rolls back
//     │                              (docs/notes/upgrade.md)
//     ├── id                         AUTOINCREMENT: attempt order
//     ├── container_id → containers.id   CASCADE on container delete; at most one
//     │                              row per container with a NULL outcome
//     ├── phase                      how far it got: prepared (new rootfs under
//     │                              <id>.upgrade-new) | stopped | swapped (the
//     │                              container's key names the new rootfs, the old
//     │                              one is <id>.upgrade-old) | started | done
//     ├── outcome                    NULL while in progress | success | rolled-back
//     ├── started_at, finished_at    RFC 3339 (finished_at NULL while in progress)
//     ├── old_image_id, old_image_ref, new_image_id, new_image_ref
//     ├── old_config                 JSON: the container's Config before, restored
//     │                              by a rollback
//     ├── was_running                1: a rollback starts the old one again
//     ├── keep_rootfs                1: the old upper dir was copied onto the new
//     ├── addresses                  JSON: IP, MAC and host ports per network id
//     │                              before the stop, asked for again at each start
//     ├── error                      why it rolled back ('' otherwise)
//     ├── rollback_window_ms         the window asked for (0: none) (migration 6)
//     ├── window_started_at          RFC 3339: when the new image started, from
//     │                              which the window runs; NULL before (migration 6)
//     └── added_volumes              JSON array: names of the anonymous volumes made
//                                    for the new image's VOLUMEs, recorded with the
//                                    swap; a rollback removes them (migration 6)
//
//     build_cache                    the classic builder's layer cache (migration 7):
//     │                              a build step on an image → the image it made
//     ├── key                        sha256 of the parent id and the step as run
//     │                              (build args in, COPY/ADD with their files' sum)
//     ├── parent_id                  the image the step ran on ('' for FROM scratch);
//     │                              an untagged image that is some row's parent is
//     │                              an intermediate one, hidden by `docker images`
//     └── image_id → images.id       CASCADE: a removed image takes its entries
//
//     daemon_settings                values a daemon picks once and keeps (migration 9)
//     ├── key                        "ula_global_id": the 40 random bits of the
//     │                              daemon's ULA /48 (fdXX:XXXX:XXXX::/48), where
//     │                              IPv6 networks without a subnet get one
//     └── value                      text

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'snapshots, images, image layers, tags and digests',
    sql: `
CREATE TABLE snapshots (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT UNIQUE NOT NULL CHECK (key <> ''),
  parent_id INTEGER REFERENCES snapshots(id) ON DELETE RESTRICT,
  kind TEXT NOT NULL CHECK (kind IN ('active', 'view', 'committed')),
  size INTEGER NOT NULL DEFAULT 0 CHECK (size >= 0),
  labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),
  created_at INTEGER NOT NULL
);
CREATE INDEX snapshots_parent_id ON snapshots(parent_id);

CREATE TABLE images (
  id TEXT PRIMARY KEY,
  manifest_digest TEXT NOT NULL,
  manifest_media_type TEXT NOT NULL,
  manifest_size INTEGER NOT NULL CHECK (manifest_size >= 0),
  chain_id TEXT,
  size INTEGER NOT NULL CHECK (size >= 0),
  created TEXT,
  added_at INTEGER NOT NULL,
  last_tag_time INTEGER
);
CREATE INDEX images_chain_id ON images(chain_id);
CREATE INDEX images_manifest_digest ON images(manifest_digest);

CREATE TABLE image_layers (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL CHECK (idx >= 0),
  blob_digest TEXT NOT NULL,
  blob_size INTEGER NOT NULL CHECK (blob_size >= 0),
  media_type TEXT NOT NULL,
  diff_id TEXT NOT NULL,
  chain_id TEXT NOT NULL,
  PRIMARY KEY (image_id, idx)
);
-- garbage collection asks "does any image still use this blob / snapshot?"
CREATE INDEX image_layers_blob_digest ON image_layers(blob_digest);
CREATE INDEX image_layers_chain_id ON image_layers(chain_id);

CREATE TABLE image_tags (
  name TEXT PRIMARY KEY,
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL
);
CREATE INDEX image_tags_image_id ON image_tags(image_id);

CREATE TABLE image_digests (
  name TEXT PRIMARY KEY,
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL
);
CREATE INDEX image_digests_image_id ON image_digests(image_id);
`,
  },
  {
    version: 2,
    description: 'containers',
    sql: `
CREATE TABLE containers (
  id TEXT PRIMARY KEY CHECK (length(id) = 64),
  name TEXT NOT NULL UNIQUE CHECK (name <> ''),
  image_id TEXT NOT NULL,
  image_ref TEXT NOT NULL,
  created_at TEXT NOT NULL,
  config TEXT NOT NULL CHECK (json_valid(config)),
  host_config TEXT NOT NULL CHECK (json_valid(host_config)),
  state TEXT NOT NULL CHECK (json_valid(state)),
  runtime TEXT NOT NULL,
  restart_count INTEGER NOT NULL DEFAULT 0,
  monitor_pid INTEGER,
  monitor_start INTEGER,
  manually_stopped INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX containers_image_id ON containers(image_id);
`,
  },
  {
    version: 3,
    description: 'volumes and container mounts',
    sql: `
CREATE TABLE volumes (
  name TEXT PRIMARY KEY CHECK (name <> ''),
  driver TEXT NOT NULL,
  mountpoint TEXT NOT NULL,
  labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),
  options TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
  anonymous INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);

CREATE TABLE container_mounts (
  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
  destination TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('bind', 'volume', 'tmpfs')),
  volume TEXT REFERENCES volumes(name) ON DELETE RESTRICT,
  mount TEXT NOT NULL CHECK (json_valid(mount)),
  PRIMARY KEY (container_id, destination)
);
CREATE INDEX container_mounts_volume ON container_mounts(volume);
`,
  },
  {
    version: 4,
    description: 'networks and endpoints',
    sql: `
CREATE TABLE networks (
  id TEXT PRIMARY KEY CHECK (length(id) = 64),
  name TEXT NOT NULL UNIQUE CHECK (name <> ''),
  driver TEXT NOT NULL,
  bridge TEXT NOT NULL DEFAULT '',
  subnet TEXT NOT NULL DEFAULT '',
  gateway TEXT NOT NULL DEFAULT '',
  ip_range TEXT NOT NULL DEFAULT '',
  internal INTEGER NOT NULL DEFAULT 0,
  labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),
  options TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
  created_at TEXT NOT NULL
);

CREATE TABLE endpoints (
  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
  network_id TEXT NOT NULL REFERENCES networks(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL DEFAULT 0,
  config TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),
  state TEXT CHECK (state IS NULL OR json_valid(state)),
  PRIMARY KEY (container_id, network_id)
);
CREATE INDEX endpoints_network_id ON endpoints(network_id);
`,
  },
  {
    version: 5,
    description: 'container upgrades',
    sql: `
CREATE TABLE container_upgrades (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
  phase TEXT NOT NULL CHECK (phase IN ('prepared', 'stopped', 'swapped', 'started', 'done')),
  outcome TEXT CHECK (outcome IS NULL OR outcome IN ('success', 'rolled-back')),
  started_at TEXT NOT NULL,
  finished_at TEXT,
  old_image_id TEXT NOT NULL,
  old_image_ref TEXT NOT NULL,
  new_image_id TEXT NOT NULL,
  new_image_ref TEXT NOT NULL,
  old_config TEXT NOT NULL CHECK (json_valid(old_config)),
  was_running INTEGER NOT NULL,
  keep_rootfs INTEGER NOT NULL,
  addresses TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(addresses)),
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX container_upgrades_container_id ON container_upgrades(container_id);
CREATE UNIQUE INDEX container_upgrades_in_progress ON container_upgrades(container_id) WHERE outcome IS NULL;
`,
  },
  {
    version: 6,
    description: 'upgrade rollback windows and volumes made for the new image',
    sql: `
ALTER TABLE container_upgrades ADD COLUMN rollback_window_ms INTEGER NOT NULL DEFAULT 0 CHECK (rollback_window_ms >= 0);
ALTER TABLE container_upgrades ADD COLUMN window_started_at TEXT;
ALTER TABLE container_upgrades ADD COLUMN added_volumes TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(added_volumes));
`,
  },
  {
    version: 7,
    description: 'the classic builder\'s layer cache',
    sql: `
CREATE TABLE build_cache (
  key TEXT PRIMARY KEY,
  parent_id TEXT NOT NULL,
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
);
CREATE INDEX build_cache_parent_id ON build_cache(parent_id);
CREATE INDEX build_cache_image_id ON build_cache(image_id);
`,
  },
  {
    version: 8,
    description: 'IPv6 on networks',
    sql: `
ALTER TABLE networks ADD COLUMN enable_ipv6 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE networks ADD COLUMN subnet6 TEXT NOT NULL DEFAULT '';
ALTER TABLE networks ADD COLUMN gateway6 TEXT NOT NULL DEFAULT '';
ALTER TABLE networks ADD COLUMN ip_range6 TEXT NOT NULL DEFAULT '';
`,
  },
  {
    version: 9,
    description: 'IPv6-only networks, and the daemon\'s own settings (its ULA global ID)',
    sql: `
ALTER TABLE networks ADD COLUMN enable_ipv4 INTEGER NOT NULL DEFAULT 1;
CREATE TABLE daemon_settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`,
  },
];
