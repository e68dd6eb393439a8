import { CreateApiKeys1764000000000 } from './1764000000000-create-api-keys';

/** Every migration, in order. Listed explicitly so the build and the tests load the same set. */
export const MIGRATIONS = [CreateApiKeys1764000000000];
