// `--filter k=v` values, repeatable, turned into the API's filters object.
import type { Filters } from '../images/types.ts';

/** Splits "k=v" at the first "="; docker rejects values without one. */
export function parseFilterArg(value: string): [string, string] {
  const i = value.indexOf('=');
  if (i < 0) throw new Error('bad format of filter (expected name=value)');
  return [value.slice(0, i).trim().toLowerCase(), value.slice(i + 1).trim()];
}

export function toFilters(values: string[] | undefined): Filters {
  const out: Filters = {};
  for (const v of values ?? []) {
    const [k, val] = parseFilterArg(v);
    (out[k] ??= []).includes(val) || out[k]!.push(val);
  }
  return out;
}

export function addFilter(filters: Filters, key: string, value: string): Filters {
  const list = (filters[key] ??= []);
  if (!list.includes(value)) list.push(value);
  return filters;
}

/** The query value, or undefined when there are no filters. */
export function filtersParam(filters: Filters): Filters | undefined {
  return Object.keys(filters).length > 0 ? filters : undefined;
}
