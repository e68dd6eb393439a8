import { toBuffer } from 'qrcode';

/** A QR payload as a PNG that a phone camera reads easily off a screen. */
export function renderQrPng(payload: string): Promise<Buffer> {
  return toBuffer(payload, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 8 });
}
