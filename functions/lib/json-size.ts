// The size of a value as the API sends it (UTF-8 bytes of its JSON), for page budgets.
const encoder = new TextEncoder();

export function jsonBytes(value: unknown): number {
  return encoder.encode(JSON.stringify(value)).length;
}
