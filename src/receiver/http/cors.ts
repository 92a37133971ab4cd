import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/**
 * CORS for browser viewers (OHIF, a web console elsewhere) that call the read routes from another
 * origin: only GET (and its preflight), only the listed origins, never cookies — the read token
 * travels in the Authorization header, which the preflight must allow. The Warning header is
 * exposed so a viewer can see QIDO-RS's "more results" and "fuzzy matching" notices.
 */
export function allowOrigins(app: FastifyInstance, origins: readonly string[]): void {
  if (origins.length === 0) return;
  void app.register(cors, {
    origin: origins.includes('*') ? '*' : [...origins],
    methods: ['GET', 'HEAD'],
    allowedHeaders: ['Authorization', 'Accept', 'Content-Type', 'Prefer'],
    exposedHeaders: ['Warning', 'Retry-After', 'Content-Location'],
    credentials: false,
    maxAge: 600,
    strictPreflight: true,
  });
}
