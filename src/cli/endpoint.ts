// network.EndpointSettings as the docker CLI encodes it in a request body:
// every field present, the server-side ones empty. Shared by run/create's
// --network flags and `network connect`.
export interface EndpointRequest {
  IPAMConfig: Record<string, unknown> | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  GwPriority: number;
}

export function endpointBody(e: EndpointRequest): Record<string, unknown> {
  return {
    ...e,
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}
