// Checking credentials against a registry (POST /auth): ping /v2/, answer
// its challenge with the credentials, and confirm /v2/ accepts the result.
import { invalid, is, unauthorized, unavailable } from '../errdefs/index.ts';
import { basicAuthorization, fetchToken, parseChallenges, type Credentials } from './auth.ts';
import { errorText } from './errors.ts';
import { discard, type HttpResponse } from './http.ts';
import type { Endpoint } from './hosts.ts';
import { Session, type ClientContext } from './session.ts';

export async function loginOn(
  ctx: ClientContext,
  endpoint: Endpoint,
  creds: Credentials | undefined,
  insecureTls: (host: string) => Promise<boolean>,
): Promise<{ identityToken?: string }> {
  if (!creds) throw invalid(`login to ${endpoint.host} needs a username and password, an identity token or a registry token`);
  const session = new Session(ctx, endpoint, creds);
  const ping = (authorization?: string) =>
    session.send({ method: 'GET', path: '/v2/', headers: authorization ? { authorization } : {}, scopes: [], idempotent: true, raw: true });

  const failed = async (res: HttpResponse): Promise<Error> => {
    const text = await errorText(res);
    const status = `${res.status} ${res.statusText}`.trim();
    const detail = text && text !== status ? `: ${text}` : '';
    return res.status === 401 || res.status === 403
      ? unauthorized(`login attempt to ${res.url.href} failed with status: ${status}${detail}`)
      : unavailable(`login attempt to ${res.url.href} failed with status: ${status}${detail}`);
  };
  const confirm = async (authorization: string, identityToken?: string): Promise<{ identityToken?: string }> => {
    const res = await ping(authorization);
    if (res.status !== 200) throw await failed(res);
    discard(res);
    return identityToken ? { identityToken } : {};
  };

  if (creds.registryToken) return confirm(`Bearer ${creds.registryToken}`);
  const first = await ping();
  // No authentication required: nothing to check, as with Docker.
  if (first.status === 200) {
    discard(first);
    return {};
  }
  if (first.status !== 401) throw await failed(first);
  const challenges = parseChallenges(first.headers['www-authenticate']);
  const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
  if (bearer) {
    discard(first);
    const realm = bearer.params.realm!;
    let token;
    try {
      token = await fetchToken(ctx.http, {
        realm,
        service: bearer.params.service,
        scopes: [],
        creds,
        offline: true,
        insecureTls: await insecureTls(new URL(realm).host),
      });
    } catch (err) {
      if (!is(err, 'unauthorized')) throw err;
      throw unauthorized(`login attempt to ${first.url.href} failed with status: 401 Unauthorized: ${(err as Error).message}`, err);
    }
    // The refresh token stands in for the password from now on.
    return confirm(`Bearer ${token.token}`, token.refreshToken ?? creds.identityToken);
  }
  const basic = basicAuthorization(creds);
  if (challenges.some((c) => c.scheme === 'basic') && basic) {
    discard(first);
    return confirm(basic);
  }
  throw await failed(first);
}
