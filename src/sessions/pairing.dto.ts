import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';

/** The QR WhatsApp shows while a session is pairing: scan it in WhatsApp → Linked devices. */
export class SessionQrDto {
  /**
   * The QR payload, as WhatsApp gives it; render it as a QR code (or ask for `image/png`).
   * @example "2@Xq3Lm0d9yGn1vG3...,kP1pFhXq...,Qm9vZ...,aGVsbG8..."
   */
  qr!: string;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    description: 'Epoch ms after which this QR no longer links; ask again for the next one.',
    example: 1732400060000,
  })
  expiresAt!: number;
}

export class RequestPairingCodeDto {
  @ApiProperty({
    description: 'The number to link, in international format as digits only (no `+`, spaces or leading zeros).',
    pattern: '^[1-9][0-9]{7,14}$',
    example: '6281234567890',
  })
  @IsString()
  @Matches(/^[1-9][0-9]{7,14}$/, { message: 'must be 8 to 15 digits of an international number, without + or a leading 0' })
  phoneNumber!: string;
}

export class PairingCodeDto {
  /**
   * Enter it on the phone: WhatsApp → Linked devices → Link a device → Link with phone number instead.
   * @example "ABCD2EFG"
   */
  code!: string;
}
