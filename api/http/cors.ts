// CORS for the codec endpoint: the Temporal UI (another origin) POSTs payloads from the browser
// with the user's token in Authorization. Only listed origins (exact scheme://host:port) get
// CORS headers; every other origin's browser is left to refuse. No cookies are involved, so no
// Access-Control-Allow-Credentials.
import type { RequestHandler } from 'express';
import { ApiError } from '../errors.js';

export const CODEC_CORS_HEADERS = 'Authorization, Content-Type, X-Namespace';
const MAX_AGE_SECONDS = 600;

export function codecCors(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins.map((o) => o.replace(/\/+$/, '')));
  return (req, res, next) => {
    const origin = req.get('origin');
    const permitted = origin !== undefined && allowed.has(origin);
    if (origin !== undefined) res.vary('Origin');
    if (permitted) res.setHeader('Access-Control-Allow-Origin', origin);
    // A preflight: the browser asks before POSTing JSON with an Authorization header.
    if (req.method === 'OPTIONS' && origin !== undefined && req.get('access-control-request-method') !== undefined) {
      if (!permitted) return next(new ApiError(403, 'cors_origin_refused', `origin ${origin.slice(0, 200)} may not call the codec endpoint`));
      res.setHeader('Access-Control-Allow-Methods', 'POST');
      res.setHeader('Access-Control-Allow-Headers', CODEC_CORS_HEADERS);
      res.setHeader('Access-Control-Max-Age', String(MAX_AGE_SECONDS));
      res.status(204).end();
      return;
    }
    next();
  };
}
