// Lookups by a key a user chose (a service named "constructor", a config key "toString"): only
// the record's own properties count, never what every object inherits.

/** `record[key]` when the record itself has that key, else undefined. */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Whether the record itself has the key. */
export function hasOwn(record: object, key: string): boolean {
  return Object.hasOwn(record, key);
}
