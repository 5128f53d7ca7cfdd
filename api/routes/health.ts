import { z } from 'zod';
import { defineRoute } from '../route.js';

export const healthRoutes = [
  defineRoute({
    method: 'get', path: '/healthz', operationId: 'health', summary: 'Liveness', tag: 'meta',
    responses: { 200: { description: 'up', schema: z.object({ status: z.literal('ok') }) } },
    async handler() {
      return { status: 200, body: { status: 'ok' } };
    },
  }),
];
