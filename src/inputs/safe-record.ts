/** Whether a value is a JSON object: not null, not an array. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Sets a key as an own, enumerable, writable property. A key named `__proto__` stays ordinary
 * data: plain assignment would replace the object's prototype instead.
 * @example const inputs: Record<string, unknown> = {}; for (const [name, value] of fields) setOwn(inputs, name, value);
 */
export function setOwn(record: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}
