import { Server } from 'node:http';
import request from 'supertest';

/** The parts of an OpenAPI 3 schema object that the generated requests are built from. */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  nullable?: boolean;
  example?: unknown;
  default?: unknown;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

export interface Operation {
  /** `"<METHOD> <path template>"`, e.g. `"GET /api/v1/sessions/{sid}"`: the table key of a suite. */
  key: string;
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  operationId?: string;
  parameters: Parameter[];
  /** The JSON body schema, with `$ref`s left in place (resolve with `resolveSchema`). */
  body?: Schema;
  /** The body's documented example (the first of `examples`), if the operation has one. */
  bodyExample?: unknown;
  /** No credential needed (an empty `security` list). */
  public: boolean;
  /** The capability the operation requires (`x-required-capability`). */
  capability?: string;
}

interface RawOperation {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema; example?: unknown; examples?: Record<string, { value?: unknown }> }> };
  security?: unknown[];
  'x-required-capability'?: string;
}

export interface OpenApiDocument {
  paths: Record<string, Partial<Record<string, RawOperation>>>;
  components?: { schemas?: Record<string, Schema> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** The gateway's own OpenAPI document, as it serves it. */
export async function fetchOpenApi(http: Server): Promise<OpenApiDocument> {
  const res = await request(http).get('/docs-json');
  if (res.status !== 200) throw new Error(`/docs-json answered ${res.status}`);
  return res.body as OpenApiDocument;
}

/** Every operation of the document, in document order. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const json = op.requestBody?.content?.['application/json'];
      operations.push({
        key: `${method.toUpperCase()} ${path}`,
        method,
        path,
        operationId: op.operationId,
        parameters: op.parameters ?? [],
        body: json?.schema,
        bodyExample: json?.example ?? Object.values(json?.examples ?? {})[0]?.value,
        public: Array.isArray(op.security) && op.security.length === 0,
        capability: op['x-required-capability'],
      });
    }
  }
  return operations;
}

/** Follows `$ref`s (and merges `allOf`) until a concrete schema is left. */
export function resolveSchema(doc: OpenApiDocument, schema: Schema): Schema {
  let current = schema;
  for (let depth = 0; current.$ref; depth++) {
    if (depth > 20) throw new Error(`circular $ref ${schema.$ref}`);
    const name = current.$ref.replace('#/components/schemas/', '');
    const target = doc.components?.schemas?.[name];
    if (!target) throw new Error(`unresolved $ref ${current.$ref}`);
    current = target;
  }
  if (current.allOf) {
    const parts = current.allOf.map((s) => resolveSchema(doc, s));
    return parts.reduce<Schema>(
      (merged, part) => ({
        ...merged,
        ...part,
        properties: { ...merged.properties, ...part.properties },
        required: [...(merged.required ?? []), ...(part.required ?? [])],
      }),
      { ...current, allOf: undefined },
    );
  }
  return current;
}

/**
 * A body as the document shows it: the operation's own example, or one built from the examples
 * of the schema's properties (all of them, optional ones too).
 */
export function documentedBody(doc: OpenApiDocument, op: Operation): unknown {
  if (op.bodyExample !== undefined) return op.bodyExample;
  if (!op.body) return undefined;
  return exampleOf(doc, op.body, 0);
}

function exampleOf(doc: OpenApiDocument, raw: Schema, depth: number): unknown {
  const s = resolveSchema(doc, raw);
  if (s.example !== undefined) return s.example;
  if (s.enum) return s.enum[0];
  if (depth > 8) return undefined;
  if (s.properties) {
    return Object.fromEntries(Object.entries(s.properties).map(([name, property]) => [name, exampleOf(doc, property, depth + 1)]));
  }
  if (s.items) return [exampleOf(doc, s.items, depth + 1)];
  return undefined;
}

/** Fills a path template: `/a/{sid}/b` with `{sid: 'x y'}` gives `/a/x%20y/b`. */
export function fillPath(
  template: string,
  values: Record<string, string>,
  encode: (value: string) => string = encodeURIComponent,
): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${template}`);
    return encode(value);
  });
}
