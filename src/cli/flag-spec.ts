// How a command's flags are declared: commander's flag text, docker's help,
// and the kind of value, checked as docker's pflag values check theirs.

/** Values that docker parses while reading flags: a bad one is a usage
 * error ("invalid argument "x" for "-m, --memory" flag: …", exit 125). */
export type FlagKind =
  | 'int' // Go int / int64: strconv.ParseInt base 0
  | 'uint16'
  | 'uint64'
  | 'bytes' // go-units RAMInBytes
  | 'swap' // bytes, or -1
  | 'cpus' // big.Rat × 1e9
  | 'duration' // Go time.ParseDuration
  | 'ulimit'
  | 'env'
  | 'label'
  | 'attach'
  | 'ip'
  | 'dns-search'
  | 'add-host'
  | 'link'
  | 'sysctl'
  | 'device-cgroup-rule'
  | 'mount'
  | 'network'
  | 'weight-device'
  | 'bps-device'
  | 'iops-device';

export interface OptSpec {
  /** commander flags: "-q, --quiet", "--platform <string>", "-f, --filter <filter>" */
  flags: string;
  desc: string;
  default?: unknown;
  /** The default as docker's help prints it, when it differs from `default`. */
  defaultText?: string;
  /** Repeatable: values collect into an array. "filter" also checks k=v. */
  collect?: 'list' | 'filter';
  hidden?: boolean;
  kind?: FlagKind;
  /** Another name of a flag ("--net" of "--network"): its values go to the
   * same list, in the order given. */
  aliasOf?: string;
}

/** "-m, --memory" from "-m, --memory <bytes>": the name pflag's errors use. */
export function flagName(flags: string): string {
  return flags.replace(/ <.*>$/, '');
}

/** commander's attribute for a flag: "--cpu-shares" → "cpuShares". */
export function attributeName(flags: string): string {
  const long = /--([\w-]+)/.exec(flags)?.[1] ?? '';
  return long.replace(/^no-/, '').replace(/-(\w)/g, (_m, c: string) => c.toUpperCase());
}
