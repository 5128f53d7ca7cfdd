// Who may do what, written out here as facts (not read from api/authz.ts's own table): changing
// any one entry of the policy (an action's minimum role, the order of roles, how tier scopes
// apply) makes a test below fail.
import { describe, expect, it } from 'vitest';
import { ACTIONS, authorize, roleAtLeast, ROLES, type Action, type Principal, type Role } from '../../api/authz.js';

const principal = (role: Role, tiers?: Principal['tiers']): Principal => ({ id: 't', name: 'n', role, tiers });
const may = (role: Role, action: Action, tiers?: Principal['tiers']) => authorize(principal(role, tiers), action).allowed;

/**
 * Every action, and exactly the roles that may do it (unscoped tokens), spelt out. Read across:
 * a viewer only reads; an operator also changes and deploys environments, clones, drills and
 * schedules; a release-manager also promotes, clones prod data as it is, and reads decrypted Temporal payloads; only an
 * admin reads the audit log, changes clusters, rules and tokens, and encrypts payloads.
 */
const MAY: Record<Action, readonly Role[]> = {
  read: ['viewer', 'operator', 'release-manager', 'admin'],
  'logs.read': ['viewer', 'operator', 'release-manager', 'admin'],
  'environment.write': ['operator', 'release-manager', 'admin'],
  'environment.deploy': ['operator', 'release-manager', 'admin'],
  'clone.create': ['operator', 'release-manager', 'admin'],
  // Copying a prod database as it is: raw customer data.
  'clone.data.prod': ['release-manager', 'admin'],
  'drill.create': ['operator', 'release-manager', 'admin'],
  'schedule.write': ['operator', 'release-manager', 'admin'],
  'promotion.create': ['release-manager', 'admin'],
  'promotion.approve': ['release-manager', 'admin'],
  'promotion.control': ['release-manager', 'admin'],
  'audit.read': ['admin'],
  'cluster.write': ['admin'],
  'rules.write': ['admin'],
  'token.write': ['admin'],
  'payload.decode': ['release-manager', 'admin'],
  'payload.encode': ['admin'],
};
const EVERY_ROLE: readonly Role[] = ['viewer', 'operator', 'release-manager', 'admin'];

describe('authorize', () => {
  it('knows these four roles, weakest first, and these actions (a new one needs a row above)', () => {
    expect(ROLES).toEqual(['viewer', 'operator', 'release-manager', 'admin']);
    expect(Object.keys(ACTIONS).sort()).toEqual(Object.keys(MAY).sort());
  });

  for (const [action, allowed] of Object.entries(MAY) as [Action, readonly Role[]][]) {
    it(`${action}: ${allowed.join(', ')} may; ${EVERY_ROLE.filter((r) => !allowed.includes(r)).join(', ') || 'nobody else'} may not`, () => {
      const got = Object.fromEntries(EVERY_ROLE.map((role) => [role, may(role, action)]));
      expect(got).toEqual(Object.fromEntries(EVERY_ROLE.map((role) => [role, allowed.includes(role)])));
    });
  }

  it('states a few of those facts one by one', () => {
    expect(may('viewer', 'environment.deploy')).toBe(false); // a viewer cannot deploy
    expect(may('operator', 'environment.deploy')).toBe(true);
    expect(may('operator', 'promotion.create')).toBe(false); // an operator cannot promote
    expect(may('operator', 'promotion.approve')).toBe(false);
    expect(may('release-manager', 'promotion.approve')).toBe(true);
    expect(may('release-manager', 'token.write')).toBe(false); // only an admin makes tokens
    expect(may('release-manager', 'audit.read')).toBe(false);
    expect(may('admin', 'audit.read')).toBe(true);
  });

  it('orders roles: each is at least itself and those below it, never one above', () => {
    expect(roleAtLeast('admin', 'viewer')).toBe(true);
    expect(roleAtLeast('release-manager', 'operator')).toBe(true);
    expect(roleAtLeast('operator', 'operator')).toBe(true);
    expect(roleAtLeast('operator', 'release-manager')).toBe(false);
    expect(roleAtLeast('viewer', 'operator')).toBe(false);
  });

  it('keeps a tier-scoped operator out of other tiers: scoped to dev, it deploys dev but not prod', () => {
    const dev = principal('operator', ['dev']);
    expect(authorize(dev, 'environment.deploy', ['dev'])).toEqual({ allowed: true });
    expect(authorize(dev, 'environment.deploy', ['prod'])).toEqual({ allowed: false, reason: 'this token may change tiers dev only, not prod' });
    expect(authorize(dev, 'environment.write', ['staging']).allowed).toBe(false);
    const op = principal('operator', ['dev', 'staging']);
    expect(authorize(op, 'environment.deploy', ['staging']).allowed).toBe(true);
    expect(authorize(op, 'environment.deploy', ['prod'])).toEqual({ allowed: false, reason: 'this token may change tiers dev, staging only, not prod' });
    // One tier outside the scope is enough to refuse; it is named once.
    expect(authorize(op, 'clone.create', ['staging', 'prod', 'prod'])).toEqual({ allowed: false, reason: 'this token may change tiers dev, staging only, not prod' });
  });

  it('applies a scope to every role, admin included, and a scope of no tiers allows no change', () => {
    expect(authorize(principal('admin', ['dev']), 'environment.write', ['prod']).allowed).toBe(false);
    expect(authorize(principal('release-manager', ['dev', 'staging']), 'promotion.create', ['staging', 'prod']).allowed).toBe(false);
    expect(authorize(principal('release-manager', ['dev', 'staging']), 'promotion.approve', ['staging']).allowed).toBe(true);
    expect(authorize(principal('operator', []), 'environment.deploy', ['dev']).allowed).toBe(false);
    // An unscoped token may change every tier.
    expect(authorize(principal('operator'), 'environment.deploy', ['dev', 'staging', 'prod']).allowed).toBe(true);
  });

  it('lets a tier-scoped principal read everything', () => {
    expect(authorize(principal('viewer', ['dev']), 'read', ['prod'])).toEqual({ allowed: true });
    expect(authorize(principal('operator', []), 'read', ['dev', 'staging', 'prod']).allowed).toBe(true);
  });

  it('binds reading logs to the scope, unlike other reads: a dev-scoped viewer reads dev logs, not prod ones', () => {
    expect(authorize(principal('viewer', ['dev']), 'logs.read', ['dev'])).toEqual({ allowed: true });
    expect(authorize(principal('viewer', ['dev']), 'logs.read', ['prod'])).toEqual({ allowed: false, reason: 'this token may read tiers dev only, not prod' });
    expect(authorize(principal('admin', ['dev', 'staging']), 'logs.read', ['dev', 'prod']).allowed).toBe(false);
    expect(authorize(principal('viewer'), 'logs.read', ['prod']).allowed).toBe(true);
  });

  it('checks the role before the scope, and explains a missing role', () => {
    expect(authorize(principal('viewer'), 'promotion.approve')).toEqual({
      allowed: false,
      reason: 'promotion.approve needs role release-manager or higher; this token has viewer',
    });
    expect(authorize(principal('viewer', ['dev']), 'environment.deploy', ['prod'])).toEqual({
      allowed: false,
      reason: 'environment.deploy needs role operator or higher; this token has viewer',
    });
    expect(authorize(principal('release-manager'), 'cluster.write')).toEqual({
      allowed: false,
      reason: 'cluster.write needs role admin or higher; this token has release-manager',
    });
  });
});
