// Bearer tokens: who is calling. Tokens are verified against their stored hash; a missing or
// unknown token is a 401, and a refused mutation is audited as denied even then.
import type { RequestHandler, Response } from 'express';
import type { Catalog } from '../store/catalog.js';
import type { Principal } from './authz.js';
import { ApiError } from './errors.js';
import { clientKey, enforce, type FixedWindows } from './http/rate-limit.js';

export const ANONYMOUS = 'anonymous';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new ApiError(401, 'unauthenticated', 'a bearer token is required');
  return principal;
}

/** What an anonymous audit row keeps of the request path: enough to see what was tried, never 16 KB. */
export const ANONYMOUS_PATH_CHARS = 200;

/**
 * Sets res.locals.principal from `Authorization: Bearer <token>`, or answers 401. Callers
 * without a valid token are counted per client address (`anonymous`); over the limit they get
 * 429 and are no longer audited, so a flood can fill neither the limiter nor the audit log.
 */
export function authenticate(
  catalog: Pick<Catalog, 'tokens' | 'audit'>,
  isPublic: (method: string, path: string) => boolean,
  anonymous?: { windows: FixedWindows; max: number },
): RequestHandler {
  return async (req, res, next) => {
    if (isPublic(req.method, req.path)) return next();
    const header = req.get('authorization');
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const verified = match ? await catalog.tokens.verify(match[1]!) : undefined;
    if (!verified) {
      if (anonymous && anonymous.max > 0) {
        const refused = enforce(res, anonymous.windows.hit(clientKey(req.ip)), anonymous.max);
        if (refused) return next(refused);
      }
      if (MUTATING.has(req.method)) {
        const path = `${req.baseUrl}${req.path}`.slice(0, ANONYMOUS_PATH_CHARS);
        await catalog.audit.append({
          actor: ANONYMOUS, action: `${req.method} ${path}`, target: path, result: 'denied',
          details: { reason: header ? 'invalid token' : 'no token', requestId: res.locals.requestId },
        });
      }
      return next(new ApiError(401, 'unauthenticated', header ? 'the bearer token is not valid' : 'a bearer token is required'));
    }
    const principal: Principal = { id: verified.tokenId, name: verified.name, role: verified.role };
    if (verified.tokenName !== verified.name) principal.tokenName = verified.tokenName;
    if (verified.tiers) principal.tiers = verified.tiers;
    res.locals.principal = principal;
    next();
  };
}
