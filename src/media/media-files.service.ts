import { Injectable } from '@nestjs/common';
import { QueryRunner } from 'typeorm';
import { MediaObjectsRepository } from './media-objects.repository';
import { StagedFile } from './media-staging';
import { MediaStore, objectKey } from './media-store';

/** Keeps checked files in the blob store, once per organization, and tells which object holds a file. */
@Injectable()
export class MediaFiles {
  constructor(
    private readonly store: MediaStore,
    private readonly objects: MediaObjectsRepository,
  ) {}

  /**
   * Stores a staged file for the organization inside the caller's transaction, which goes on to
   * make a message refer to it: the object lock keeps a collection from removing the file between
   * the two. The staged file is consumed.
   */
  async keep(runner: QueryRunner, orgId: string, staged: StagedFile): Promise<void> {
    await this.objects.lock(runner, orgId, staged.sha256);
    await this.objects.record(runner, orgId, staged.sha256, staged.size);
    await this.store.commit(staged, objectKey(orgId, staged.sha256));
  }
}
