// A deep copy of a journal entry, so neither the caller nor the journal can change the other's
// objects. An entry is JSON-shaped data (its records are JSON lines): plain objects, arrays,
// strings, numbers, booleans, null. Those are copied here, which costs a fraction of
// structuredClone's serialise-and-rebuild on every claim and finish; anything else (a Date or a
// Map in request.options, an object of another realm, a very deep or cyclic value) goes to
// structuredClone as before, and what it refuses (a function) it still refuses.

const MAX_DEPTH = 64;

export function cloneData<T>(value: T): T {
  return copy(value, 0) as T;
}

function copy(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) {
    return typeof value === 'function' || typeof value === 'symbol' ? structuredClone(value) : value;
  }
  if (depth >= MAX_DEPTH) return structuredClone(value);
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return structuredClone(value);
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copy(value[i], depth + 1);
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = copy((value as Record<string, unknown>)[key], depth + 1);
    // An own "__proto__" key (JSON.parse makes one) stays a key, as structuredClone keeps it.
    if (key === '__proto__') Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
    else out[key] = item;
  }
  return out;
}
