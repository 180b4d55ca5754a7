// The client's version, shown by `joey version` and `joey -v`.
import pkg from '../../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
