// The HTTP client for joeyd's Docker Engine API.
export { API_VERSION, ApiClient, ApiError, ConnectionError, checkResponse, compareVersions, encodeQuery, escapePath, kindForStatus } from './client.ts';
export type { ApiClientOptions, HijackedConnection, PingResult, Query, QueryValue, RequestOptions, TlsOptions } from './client.ts';
export { DEFAULT_HOST, defaultSource, envSource, flagSource, parseHost, resolveFrom, resolveHost } from './host.ts';
export type { HostSource, ParsedHost, ResolvedHost } from './host.ts';
export { CredentialStore, INDEX_SERVER, authFor, configDir, convertToHostname, decodeAuthHeader, encodeAuthHeader, registryKey } from './auth.ts';
