import { Controller, Get, Module, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryModule, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import request from 'supertest';
import { IS_PUBLIC, REQUIRED_CAPABILITY } from '../../src/auth/access.decorators';
import { CAPABILITIES, Capability } from '../../src/auth/capability';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';

interface RouteAccess {
  method: string;
  path: string;
  access: { public: true } | { capability: unknown } | null;
}

const joinPath = (...parts: string[]): string =>
  `/${parts.map((p) => p.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/')}`;

const asArray = (value: unknown): string[] => (Array.isArray(value) ? (value as string[]) : [typeof value === 'string' ? value : '']);

/** Every route Nest registered from a controller, with what it declares about access. */
function nestRoutes(t: TestApp): RouteAccess[] {
  const discovery = t.app.get(DiscoveryService);
  const scanner = t.app.get(MetadataScanner);
  const reflector = t.app.get(Reflector);
  const routes: RouteAccess[] = [];
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as (new (...args: unknown[]) => object) | undefined;
    if (!controller) continue;
    const prefixes = asArray(Reflect.getMetadata(PATH_METADATA, controller));
    for (const name of scanner.getAllMethodNames(controller.prototype)) {
      const handler = (controller.prototype as Record<string, unknown>)[name] as object;
      const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (requestMethod === undefined) continue;
      const targets = [handler as () => unknown, controller];
      const isPublic = reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets);
      const capability = reflector.getAllAndOverride<unknown>(REQUIRED_CAPABILITY, targets);
      const access = isPublic ? { public: true as const } : capability !== undefined ? { capability } : null;
      for (const prefix of prefixes) {
        for (const path of asArray(Reflect.getMetadata(PATH_METADATA, handler))) {
          routes.push({ method: RequestMethod[requestMethod].toLowerCase(), path: joinPath(prefix, path), access });
        }
      }
    }
  }
  return routes;
}

interface ExpressLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** Every route Express serves, as `"<method> <path>"`. */
function expressRoutes(t: TestApp): string[] {
  const stack = (t.app.getHttpAdapter().getInstance() as { router: { stack: ExpressLayer[] } }).router.stack;
  return stack.flatMap((layer) =>
    layer.route ? Object.keys(layer.route.methods).map((m) => `${m} ${layer.route!.path}`) : [],
  );
}

/** The Swagger UI and its document: registered by SwaggerModule, public by the contract. */
const isDocsRoute = (route: string): boolean => /^get \/docs(-json|-yaml|\/.*)?$/.test(route);

const samplePath = (path: string): string => path.replace(/:[A-Za-z0-9_]+/g, '01HF7Z3K8Q2V5N9T4W6X0Y1B2C');

@Controller('test-only/undeclared')
class UndeclaredController {
  @Get()
  forgotten(): { leaked: true } {
    return { leaked: true };
  }
}

@Module({ controllers: [UndeclaredController] })
class UndeclaredModule {}

describe('route access: every route of the real app declares who may call it', () => {
  let t: TestApp;
  let routes: RouteAccess[];

  beforeAll(async () => {
    t = await startTestApp({}, [DiscoveryModule]);
    routes = nestRoutes(t);
  });
  afterAll(() => t.close());

  it('finds the routes Express serves, and no route outside a controller but the docs', () => {
    const declared = new Set(routes.map((r) => `${r.method} ${r.path}`));
    expect(declared).toContain('post /api/v1/api-keys');
    expect(declared).toContain('get /health/ready');
    const served = expressRoutes(t);
    expect(served.length).toBeGreaterThan(0);
    expect(served.filter((route) => !declared.has(route) && !isDocsRoute(route))).toEqual([]);
    expect([...declared].filter((route) => !served.includes(route))).toEqual([]);
  });

  it('has @RequireCapability() with a known capability or @Public() on every route', () => {
    const undeclared = routes.filter((r) => r.access === null).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(undeclared).toEqual([]);
    const unknown = routes.filter((r) => r.access && 'capability' in r.access && !CAPABILITIES.includes(r.access.capability as Capability));
    expect(unknown).toEqual([]);
  });

  it('gives the contact, number and group routes the capabilities of API.md §10', () => {
    const capabilityOf = (method: string, path: string) => {
      const route = routes.find((r) => r.method === method && r.path === path);
      return route?.access && 'capability' in route.access ? route.access.capability : route?.access;
    };
    expect({
      'GET contacts': capabilityOf('get', '/api/v1/sessions/:sid/contacts'),
      'GET contact': capabilityOf('get', '/api/v1/sessions/:sid/contacts/:jid'),
      'GET picture': capabilityOf('get', '/api/v1/sessions/:sid/contacts/:jid/picture'),
      'POST lookup': capabilityOf('post', '/api/v1/sessions/:sid/numbers/lookup'),
      'GET group': capabilityOf('get', '/api/v1/sessions/:sid/groups/:jid'),
      'POST group': capabilityOf('post', '/api/v1/sessions/:sid/groups'),
      'POST participants': capabilityOf('post', '/api/v1/sessions/:sid/groups/:jid/participants'),
      'GET invite link': capabilityOf('get', '/api/v1/sessions/:sid/groups/:jid/invite-link'),
    }).toEqual({
      'GET contacts': 'read',
      'GET contact': 'read',
      'GET picture': 'read',
      'POST lookup': 'read',
      'GET group': 'read',
      'POST group': 'manage',
      'POST participants': 'manage',
      'GET invite link': 'manage',
    });
  });

  it('requires send on the conversation routes (API.md §9), as on sends', () => {
    const chat = '/api/v1/sessions/:sid/chats/:cid';
    const conversation = [
      `post ${chat}/messages`,
      `put ${chat}/messages/:mid/reaction`,
      `patch ${chat}/messages/:mid`,
      `post ${chat}/messages/:mid/revoke`,
      `delete ${chat}/messages/:mid`,
      `post ${chat}/read`,
      `post ${chat}/presence`,
    ];
    const accessOf = (route: string) => routes.find((r) => `${r.method} ${r.path}` === route)?.access;
    expect(conversation.map((route) => [route, accessOf(route)])).toEqual(conversation.map((route) => [route, { capability: 'send' }]));
  });

  it('answers 401 without a credential and 403 without the capability on every protected route', async () => {
    const org = uniqueOrg('access');
    const keyWithout = new Map<Capability, string>();
    for (const capability of CAPABILITIES) {
      keyWithout.set(capability, await createKey(t, org, CAPABILITIES.filter((c) => c !== capability)));
    }
    const failures: string[] = [];
    for (const route of routes) {
      if (!route.access || !('capability' in route.access)) continue;
      const path = samplePath(route.path);
      const call = () => request(t.http)[route.method as 'get'](path);
      const anonymous = await call();
      if (anonymous.status !== 401 || anonymous.body.error?.code !== 'unauthorized' || anonymous.headers['www-authenticate'] !== 'Bearer') {
        failures.push(`${route.method} ${route.path} without a credential: ${anonymous.status}`);
      }
      const lacking = await call().set('Authorization', `Bearer ${keyWithout.get(route.access.capability as Capability)}`);
      if (lacking.status !== 403 || lacking.body.error?.code !== 'forbidden') {
        failures.push(`${route.method} ${route.path} without ${String(route.access.capability)}: ${lacking.status}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('documents each protected route with the bearer scheme, its capability and the 401/403 envelope', async () => {
    const doc = (await request(t.http).get('/docs-json')).body;
    const problems: string[] = [];
    for (const route of routes) {
      if (!route.access || !('capability' in route.access)) continue;
      const openApiPath = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const operation = doc.paths[openApiPath]?.[route.method];
      const name = `${route.method.toUpperCase()} ${openApiPath}`;
      if (!operation) {
        problems.push(`${name}: not in the document`);
        continue;
      }
      if (JSON.stringify(operation.security) !== JSON.stringify([{ bearer: [] }])) problems.push(`${name}: security`);
      if (!String(operation.description).includes(`Requires the \`${String(route.access.capability)}\` capability.`)) {
        problems.push(`${name}: capability not in the description`);
      }
      for (const status of ['401', '403']) {
        const schema = operation.responses[status]?.content?.['application/json']?.schema;
        if (schema?.$ref !== '#/components/schemas/ErrorEnvelopeDto') problems.push(`${name}: ${status} response`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('route access: the check catches a route that declares nothing', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({}, [DiscoveryModule, UndeclaredModule]);
  });
  afterAll(() => t.close());

  it('reports the route, which the guard refuses even to a caller holding every capability', async () => {
    const undeclared = nestRoutes(t).filter((r) => r.access === null);
    expect(undeclared).toEqual([{ method: 'get', path: '/test-only/undeclared', access: null }]);
    expect((await request(t.http).get('/test-only/undeclared')).status).toBe(401);
    const key = await createKey(t, uniqueOrg('undeclared'));
    const res = await request(t.http).get('/test-only/undeclared').set('Authorization', `Bearer ${key}`);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
  });
});
