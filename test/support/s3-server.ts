import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- s3rver ships no types
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
};

/** A real S3 protocol server (s3rver) on a loopback port, with one bucket, its objects in a temporary directory. */
export class S3Server {
  readonly directory = mkdtempSync(join(tmpdir(), 'wgw-s3-'));
  private server: InstanceType<typeof S3rver> | null = null;

  constructor(readonly bucket = 'media') {}

  /** Starts it; returns the gateway's environment for it (the SDK reads the credentials from `process.env`). */
  async start(): Promise<Record<string, string>> {
    this.server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: this.directory, configureBuckets: [{ name: this.bucket, configs: [] }] });
    const { port } = await this.server.run();
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    return { MEDIA_STORE: 's3', S3_BUCKET: this.bucket, S3_REGION: 'us-east-1', S3_ENDPOINT: `http://127.0.0.1:${port}`, S3_FORCE_PATH_STYLE: 'true' };
  }

  async stop(): Promise<void> {
    await this.server?.close();
    rmSync(this.directory, { recursive: true, force: true });
  }
}
