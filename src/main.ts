import 'reflect-metadata';
import { runGateway } from './gateway';

runGateway().catch((error: unknown) => {
  process.stderr.write(`gateway failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
