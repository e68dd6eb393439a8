/** A delivery's id in the API: `dlv_` + its sequence number (a positive 63-bit integer). */
export const DELIVERY_ID_PATTERN = /^dlv_([1-9][0-9]{0,17})$/;

export function toDeliveryId(seq: string): string {
  return `dlv_${seq}`;
}

/** The sequence number a delivery id names, or null when the id is malformed (then it names nothing). */
export function parseDeliveryId(id: string): string | null {
  return DELIVERY_ID_PATTERN.exec(id)?.[1] ?? null;
}
