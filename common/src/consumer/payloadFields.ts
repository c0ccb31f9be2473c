/**
 * Small helpers for reading a feed entry's JSON payload as a tolerant reader: take the fields
 * you use, collect what is wrong, ignore the rest. Pure (`@shop/common/payload`).
 */

export type Json = Record<string, unknown>;

/** The value as a JSON object, or undefined when it is not one (null and arrays are not). */
export function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

/** A required non-empty string field; records `<at><key> must be a non-empty string` otherwise. */
export function str(o: Json, key: string, errors: string[], at = ''): string {
  const v = o[key];
  if (typeof v !== 'string' || v.trim() === '') {
    errors.push(`${at}${key} must be a non-empty string`);
    return '';
  }
  return v;
}

/** An optional string field: undefined when absent, blank or not a string. */
export function optStr(o: Json, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}
