import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { AppConfig } from '../config/app-config';
import { FsMediaStore } from './fs-media-store';
import { MediaFiles } from './media-files.service';
import { MediaGcService } from './media-gc.service';
import { MediaObjectsRepository } from './media-objects.repository';
import { MediaStaging } from './media-staging';
import { MediaStore } from './media-store';
import { S3MediaStore } from './s3-media-store';

/** The blob store of media files (`MEDIA_STORE`), the staging area in front of it, and what it holds per organization. */
@Module({
  providers: [
    {
      provide: MediaStore,
      inject: [AppConfig],
      useFactory: (config: AppConfig): MediaStore =>
        config.media.s3 ? new S3MediaStore(config.media.s3) : new FsMediaStore(join(config.dataDir, 'media')),
    },
    {
      provide: MediaStaging,
      inject: [AppConfig],
      useFactory: async (config: AppConfig): Promise<MediaStaging> => {
        // Beside the `fs` store, on the same file system: storing a file is then a rename.
        const staging = new MediaStaging(join(config.dataDir, 'media', '.staging'));
        await staging.prepare();
        return staging;
      },
    },
    MediaObjectsRepository,
    MediaFiles,
    MediaGcService,
  ],
  exports: [MediaStore, MediaStaging, MediaFiles, MediaGcService],
})
export class MediaModule implements OnApplicationShutdown {
  constructor(@Inject(MediaStore) private readonly store: MediaStore) {}

  onApplicationShutdown(): void {
    if (this.store instanceof S3MediaStore) this.store.close();
  }
}
