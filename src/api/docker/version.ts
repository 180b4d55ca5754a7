// The range of Docker Engine API versions joey speaks (defined with the
// other versions in src/version.ts), and how to compare them.
export { API_VERSION, MIN_API_VERSION } from '../../version.ts';

/** Compares dotted versions numerically: "1.9" < "1.24". */
export function compareApiVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}
