import { Column, Entity, PrimaryColumn } from 'typeorm';
import { ProviderName } from '../config/app-config';
import { SessionStatus } from '../domain/gateway-events';

@Entity('sessions')
export class SessionEntity {
  @PrimaryColumn({ type: 'char', length: 26 })
  id!: string;

  @Column({ name: 'org_id', type: 'varchar' })
  orgId!: string;

  @Column({ type: 'varchar' })
  name!: string;

  @Column({ type: 'varchar' })
  provider!: ProviderName;

  @Column({ type: 'varchar' })
  status!: SessionStatus;

  @Column({ name: 'phone_number', type: 'varchar', nullable: true })
  phoneNumber!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  /** Set when the session is deleted: from then on it is gone for every read, and purged in the background. */
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true, select: false })
  deletedAt?: Date | null;
}
