// Counters of the p2p path, for /metrics.
export interface P2PStats {
  /** Layer bytes received, by where they came from. */
  peerBytes: number;
  registryBytes: number;
  /** Layer blobs whose bytes came wholly or partly from peers / from the registry. */
  peerBlobs: number;
  registryBlobs: number;
  /** Peer answers that failed (connection, status, length) and moved on. */
  peerFailures: number;
  /** Peers whose bytes did not match the digest. */
  corruptPeers: number;
  /** Tracker lookups or announces that failed. */
  trackerErrors: number;
  servedBytes: number;
  servedBlobs: number;
}

export function newStats(): P2PStats {
  return { peerBytes: 0, registryBytes: 0, peerBlobs: 0, registryBlobs: 0, peerFailures: 0, corruptPeers: 0, trackerErrors: 0, servedBytes: 0, servedBlobs: 0 };
}

export function metricsLines(s: P2PStats): string[] {
  return [
    '# HELP joey_p2p_blob_bytes_total Layer bytes pulled, by source (peer or registry).',
    '# TYPE joey_p2p_blob_bytes_total counter',
    `joey_p2p_blob_bytes_total{source="peer"} ${s.peerBytes}`,
    `joey_p2p_blob_bytes_total{source="registry"} ${s.registryBytes}`,
    '# HELP joey_p2p_blobs_total Layer blobs pulled, by source (a blob from both counts for both).',
    '# TYPE joey_p2p_blobs_total counter',
    `joey_p2p_blobs_total{source="peer"} ${s.peerBlobs}`,
    `joey_p2p_blobs_total{source="registry"} ${s.registryBlobs}`,
    '# HELP joey_p2p_peer_failures_total Peer downloads that failed and moved on to another source.',
    '# TYPE joey_p2p_peer_failures_total counter',
    `joey_p2p_peer_failures_total ${s.peerFailures}`,
    '# HELP joey_p2p_corrupt_peers_total Peers whose bytes did not match the digest.',
    '# TYPE joey_p2p_corrupt_peers_total counter',
    `joey_p2p_corrupt_peers_total ${s.corruptPeers}`,
    '# HELP joey_p2p_tracker_errors_total Tracker requests that failed.',
    '# TYPE joey_p2p_tracker_errors_total counter',
    `joey_p2p_tracker_errors_total ${s.trackerErrors}`,
    '# HELP joey_p2p_served_bytes_total Blob bytes served to peers.',
    '# TYPE joey_p2p_served_bytes_total counter',
    `joey_p2p_served_bytes_total ${s.servedBytes}`,
    '# HELP joey_p2p_served_blobs_total Blob requests served to peers.',
    '# TYPE joey_p2p_served_blobs_total counter',
    `joey_p2p_served_blobs_total ${s.servedBlobs}`,
  ];
}
