import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { Logger } from 'pino';
import { LOGGER } from '../common/logging/logging.module';
import { AppConfig } from '../config/app-config';
import { FsMediaStore } from './fs-media-store';
import { MediaFiles } from './media-files.service';
import { MediaGcService } from './media-gc.service';
import { MediaObjectsRepository } from './media-objects.repository';
import { MediaStaging } from './media-staging';
import { MediaStore } from './media-store';

/** The blob store of media files (`MEDIA_STORE`), the staging area in front of it, and what it holds per organization. */
@Module({
  providers: [
    {
      provide: MediaStore,
      inject: [AppConfig],
      // The AWS SDK (some 20 MB resident) is loaded only for the `s3` store.
      useFactory: async (config: AppConfig): Promise<MediaStore> => {
        if (!config.media.s3) return new FsMediaStore(join(config.dataDir, 'media'));
        const { S3MediaStore } = await import('./s3-media-store');
        return new S3MediaStore(config.media.s3);
      },
    },
    {
      provide: MediaStaging,
      inject: [AppConfig, LOGGER],
      useFactory: async (config: AppConfig, logger: Logger): Promise<MediaStaging> => {
        // Beside the `fs` store, on the same file system: storing a file is then a rename.
        const staging = new MediaStaging(join(config.dataDir, 'media', '.staging'));
        // An unusable DATA_DIR fails file transfers (each tries again), not the whole gateway.
        await staging
          .prepare()
          .catch((error: unknown) => logger.error({ err: error, dir: staging.dir }, 'the media staging directory cannot be prepared; files cannot be received'));
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
    this.store.close();
  }
}
