export { Networks, builtinNetworkId, dnsNames, type Attached, type ContainerView, type EndpointPlan, type KeptAddresses, type NetworkAttachment, type NetworkSys, type NetworksConfig } from './service.ts';
export type { CreateNetworkRequest, EndpointSettingsRequest, NetworkRecord, NetworkService } from './types.ts';
