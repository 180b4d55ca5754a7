export type { QuotaBackend, QuotaBackendKind } from './backend.ts';
export { DiskQuotas, openDiskQuotas } from './service.ts';
export { EACH_KEY, ROOTFS_KEY, checkQuotaId, formatSize, limitForMount, parseQuotaLimit, parseQuotaSize, planDiskQuota, type DiskQuotaPlan, type QuotaLimit } from './limits.ts';
