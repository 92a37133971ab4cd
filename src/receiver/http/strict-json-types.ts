/**
 * The receiver's validator coerces types (query strings need it: every value is text), so a body
 * route that must take JSON types as sent checks them first: `"5"` is not a count, `true` not 1.
 */
interface TypedSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, TypedSchema>>;
  readonly items?: TypedSchema;
}

function matches(type: string, v: unknown): boolean {
  switch (type) {
    case 'null': return v === null;
    case 'boolean': return typeof v === 'boolean';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'number': return typeof v === 'number';
    case 'string': return typeof v === 'string';
    case 'array': return Array.isArray(v);
    case 'object': return v !== null && typeof v === 'object' && !Array.isArray(v);
    default: return true;
  }
}

/** The first field (a dotted path) whose JSON value is not of a type its schema names, or null. */
export function typeMismatch(schema: TypedSchema, value: unknown, path = ''): string | null {
  const types = schema.type === undefined ? null : typeof schema.type === 'string' ? [schema.type] : schema.type;
  if (types && !types.some((t) => matches(t, value))) return path || '(body)';
  if (Array.isArray(value) && schema.items) {
    for (let i = 0; i < value.length; i++) {
      const m = typeMismatch(schema.items, value[i], `${path}[${i}]`);
      if (m) return m;
    }
  } else if (value !== null && typeof value === 'object' && schema.properties) {
    for (const [k, v] of Object.entries(value)) {
      const sub = schema.properties[k];
      const m = sub ? typeMismatch(sub, v, path ? `${path}.${k}` : k) : null;
      if (m) return m;
    }
  }
  return null;
}

/** A UTC timestamp `YYYY-MM-DDTHH:MM:SS(.fff)Z` that is a real instant (no 2025-02-30, hour 24 or second 60). */
export function realUtcTime(text: string): boolean {
  const ms = Date.parse(text);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 19) === text.slice(0, 19);
}
