// Bearer tokens: who is calling. Tokens are verified against their stored hash; a missing or
// unknown token is a 401, and a refused mutation is audited as denied even then.
import type { RequestHandler, Response } from 'express';
import type { Catalog } from '../store/catalog.js';
import type { Principal } from './authz.js';
import { ApiError } from './errors.js';

export const ANONYMOUS = 'anonymous';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new ApiError(401, 'unauthenticated', 'a bearer token is required');
  return principal;
}

/** Sets res.locals.principal from `Authorization: Bearer <token>`, or answers 401. */
export function authenticate(catalog: Pick<Catalog, 'tokens' | 'audit'>, isPublic: (method: string, path: string) => boolean): RequestHandler {
  return async (req, res, next) => {
    if (isPublic(req.method, req.path)) return next();
    const header = req.get('authorization');
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const verified = match ? await catalog.tokens.verify(match[1]!) : undefined;
    if (!verified) {
      if (MUTATING.has(req.method)) {
        await catalog.audit.append({
          actor: ANONYMOUS, action: `${req.method} ${req.baseUrl}${req.path}`, target: `${req.baseUrl}${req.path}`, result: 'denied',
          details: { reason: header ? 'invalid token' : 'no token', requestId: res.locals.requestId },
        });
      }
      return next(new ApiError(401, 'unauthenticated', header ? 'the bearer token is not valid' : 'a bearer token is required'));
    }
    const principal: Principal = { id: verified.tokenId, name: verified.name, role: verified.role };
    if (verified.tiers) principal.tiers = verified.tiers;
    res.locals.principal = principal;
    next();
  };
}
