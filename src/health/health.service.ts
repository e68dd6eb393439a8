import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { UnavailableError } from '../common/errors/app-error';

@Injectable()
export class HealthService implements BeforeApplicationShutdown {
  private shuttingDown = false;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Ready means: not shutting down, and the database answers. */
  async checkReady(): Promise<void> {
    if (this.shuttingDown) throw new UnavailableError('shutting down');
    try {
      await this.dataSource.query('SELECT 1');
    } catch {
      throw new UnavailableError('database unavailable');
    }
  }

  /** From now on readiness answers 503: the load balancer stops sending requests here. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  beforeApplicationShutdown(): void {
    this.beginShutdown();
  }
}
