// A parsed, normalized image reference (Docker's rules: default registry
// docker.io, "library/" for one-component names on it, default tag "latest"
// only when neither tag nor digest is given -- applied by the caller).
export interface Reference {
  /** Registry host as written, normalized: "docker.io", "127.0.0.1:5000". */
  domain: string;
  /** Repository path: "library/busybox", "team/app". */
  path: string;
  tag?: string;
  digest?: string; // "sha256:<hex>"
}

/** An image named by its id alone, as parseReferenceOrId gives it. */
export interface IdReference {
  id: string; // "sha256:<hex>"
}
