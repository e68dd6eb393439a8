import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PairingQr } from './whatsapp-provider';

/**
 * The QR each pairing session shows, stored by the replica holding the session so that any
 * replica can serve it. Whether it is still valid is judged on the database's clock.
 */
@Injectable()
export class PairingQrRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async save(sessionId: string, qr: PairingQr, ttlMs: number): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO pairing_qrs (session_id, qr, expires_at, valid_until)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4 / 1000.0))
       ON CONFLICT (session_id) DO UPDATE SET qr = EXCLUDED.qr, expires_at = EXCLUDED.expires_at, valid_until = EXCLUDED.valid_until`,
      [sessionId, qr.qr, qr.expiresAt, ttlMs],
    );
  }

  async clear(sessionId: string): Promise<void> {
    await this.dataSource.query('DELETE FROM pairing_qrs WHERE session_id = $1', [sessionId]);
  }

  /** The session's QR while it is valid, else null. */
  async find(sessionId: string): Promise<PairingQr | null> {
    const rows = await this.dataSource.query<{ qr: string; expires_at: string }[]>(
      'SELECT qr, expires_at FROM pairing_qrs WHERE session_id = $1 AND valid_until > now()',
      [sessionId],
    );
    return rows[0] ? { qr: rows[0].qr, expiresAt: Number(rows[0].expires_at) } : null;
  }
}
