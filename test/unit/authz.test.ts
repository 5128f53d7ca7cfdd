import { describe, expect, it } from 'vitest';
import { ACTIONS, authorize, ROLES, type Action, type Principal, type Role } from '../../api/authz.js';

const principal = (role: Role, tiers?: Principal['tiers']): Principal => ({ id: 't', name: 'n', role, tiers });

describe('authorize', () => {
  it('grants each action to its minimum role and every role above, and to no role below', () => {
    for (const [action, minimum] of Object.entries(ACTIONS) as [Action, Role][]) {
      for (const role of ROLES) {
        const expected = ROLES.indexOf(role) >= ROLES.indexOf(minimum);
        expect(authorize(principal(role), action).allowed, `${role} ${action}`).toBe(expected);
      }
    }
  });

  it('keeps a tier-scoped operator out of other tiers', () => {
    const op = principal('operator', ['dev', 'staging']);
    expect(authorize(op, 'environment.deploy', ['staging']).allowed).toBe(true);
    expect(authorize(op, 'environment.deploy', ['prod'])).toEqual({ allowed: false, reason: 'this token may change tiers dev, staging only, not prod' });
    expect(authorize(op, 'clone.create', ['staging', 'prod']).allowed).toBe(false);
  });

  it('lets a tier-scoped principal read everything', () => {
    expect(authorize(principal('viewer', ['dev']), 'read', ['prod']).allowed).toBe(true);
  });

  it('explains a missing role', () => {
    expect(authorize(principal('viewer'), 'promotion.approve')).toEqual({
      allowed: false,
      reason: 'promotion.approve needs role release-manager or higher; this token has viewer',
    });
  });
});
