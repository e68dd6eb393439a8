/**
 * Baileys' `BufferJSON` semantics, reimplemented because the package cannot be loaded outside the
 * provider: bytes are written as `{"type":"Buffer","data":"<base64>"}` and read back as Buffers,
 * so credentials stored here stay readable by Baileys' own tools and the other way round.
 */

interface SerializedBuffer {
  type: 'Buffer';
  data: string | number[];
}

function isSerializedBuffer(value: unknown): value is SerializedBuffer {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer';
}

export function bufferJsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return { type: 'Buffer', data: Buffer.from(value).toString('base64') };
  // `JSON.stringify` has already turned a Buffer into `{type:'Buffer', data:[...bytes]}` by now.
  if (isSerializedBuffer(value) && Array.isArray(value.data)) {
    return { type: 'Buffer', data: Buffer.from(value.data).toString('base64') };
  }
  return value;
}

export function bufferJsonReviver(_key: string, value: unknown): unknown {
  if (isSerializedBuffer(value) && typeof value.data === 'string') return Buffer.from(value.data, 'base64');
  // Byte arrays that went through a plain `JSON.stringify` come back as `{"0":1,"1":2,...}`.
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length > 0 && entries.every(([k, v]) => /^\d+$/.test(k) && typeof v === 'number')) {
      return Buffer.from(entries.map(([, v]) => v as number));
    }
  }
  return value;
}

export function toBufferJson(value: unknown): string {
  return JSON.stringify(value, bufferJsonReplacer);
}

export function fromBufferJson<T>(text: string): T {
  return JSON.parse(text, bufferJsonReviver) as T;
}
