import type { RouteOptions } from 'fastify';

declare module 'fastify' {
  interface FastifySchema {
    /** Documentation only: copied into /openapi.json. */
    summary?: string;
    security?: Record<string, string[]>[];
    /** Documentation only: the body /openapi.json shows when fastify validates a looser one (schemas.ts ingestBodyDocs). */
    documentedBody?: unknown;
  }
}

interface CollectedRoute {
  method: string;
  url: string;
  schema: Record<string, unknown> | undefined;
}

type Schema = { properties?: Record<string, unknown>; required?: string[] } | undefined;

function parameters(where: 'query' | 'path', schema: Schema): unknown[] {
  return Object.entries(schema?.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (schema?.required ?? []).includes(name),
    schema: s,
  }));
}

/** Collects routes as they are registered (an onRoute hook) and renders an OpenAPI 3.1 document. */
export class OpenApiCollector {
  private readonly routes: CollectedRoute[] = [];

  onRoute = (route: RouteOptions): void => {
    if (route.method === 'HEAD' || (Array.isArray(route.method) && route.method.includes('HEAD'))) return;
    for (const method of [route.method].flat()) {
      this.routes.push({ method: method.toLowerCase(), url: route.url, schema: route.schema as Record<string, unknown> | undefined });
    }
  };

  document(version: string): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes) {
      const path = r.url.replace(/:(\w+)/g, '{$1}');
      const s = r.schema ?? {};
      const responses = Object.fromEntries(
        Object.entries((s.response as Record<string, unknown>) ?? { 200: {} }).map(([code, body]) => [
          code,
          { description: `HTTP ${code}`, content: { 'application/json': { schema: body } } },
        ]),
      );
      const op: Record<string, unknown> = {
        summary: s.summary,
        tags: s.tags,
        security: s.security,
        parameters: [...parameters('path', s.params as Schema), ...parameters('query', s.querystring as Schema)],
        responses,
      };
      if (s.body) op.requestBody = { required: true, content: { 'application/json': { schema: s.documentedBody ?? s.body } } };
      (paths[path] ??= {})[r.method] = op;
    }
    return {
      openapi: '3.1.0',
      info: { title: 'pacs-indexer receiver', version },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          // The read token as the password, any user name (DICOMweb and FHIR clients that can send only Basic).
          basic: { type: 'http', scheme: 'basic' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
        },
      },
      paths,
    };
  }
}
