// Command-line options of the run and density benchmarks: `--name value` or
// `--name=value`, integers and comma-separated lists, and -h/--help.

export type OptionKind = 'int' | 'list' | 'string';

/** Parses argv against kinds (option name without dashes → kind); prints usage and exits on --help. */
export function parseOptions(argv: string[], kinds: Record<string, OptionKind>, usage: string): Map<string, number | string | string[]> {
  const out = new Map<string, number | string | string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '-h' || a === '--help') {
      process.stdout.write(usage + '\n');
      process.exit(0);
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    const kind = m?.[1] ? kinds[m[1]] : undefined;
    if (!m?.[1] || !kind) throw new Error(`unknown argument ${a}\n${usage}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '') throw new Error(`--${m[1]} needs a value`);
    if (kind === 'int') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--${m[1]} needs a positive integer`);
      out.set(m[1], n);
    } else if (kind === 'list') {
      out.set(
        m[1],
        value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      );
    } else out.set(m[1], value);
  }
  return out;
}
