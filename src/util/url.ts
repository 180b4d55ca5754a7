// The one check for the http(s) URLs of services that flags name: registry
// mirrors (--registry-mirror) and the p2p tracker and advertised address
// (--p2p-tracker, --p2p-advertise). The wording is dockerd's for mirrors.
import { invalid } from '../errdefs/index.ts';

/** An absolute http or https URL without credentials, query or fragment;
 * `what` names it in the error ("mirror", "--p2p-tracker"). */
export function parseServiceUrl(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw invalid(`invalid ${what}: ${JSON.stringify(raw)} is not a valid URI (want http://HOST[:PORT] or https://…)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`invalid ${what}: unsupported scheme ${JSON.stringify(url.protocol.slice(0, -1))} in ${JSON.stringify(raw)} (want http or https)`);
  }
  if (url.username || url.password) throw invalid(`invalid ${what}: credentials are not allowed in ${JSON.stringify(raw)}`);
  if (url.search || url.hash) throw invalid(`invalid ${what}: query or fragment at end of the URI ${JSON.stringify(raw)}`);
  return url;
}

/** The URL as text without trailing slashes, the form configs keep. */
export function trimUrl(url: URL): string {
  return url.toString().replace(/\/+$/, '');
}
