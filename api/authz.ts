// Who may do what: roles are ordered, each action needs a minimum role, and a token scoped
// to tiers may change only environments of those tiers. Pure; the routes call `authorize`.
import type { Tier } from '../domain/environment.js';

export const ROLES = ['viewer', 'operator', 'release-manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** Token id, or "bootstrap" for the first admin. */
  id: string;
  /** Who acts: the token's owner (a person or a service). Four eyes and the audit log compare this. */
  name: string;
  /** The token's own name, when it differs from the owner's. */
  tokenName?: string;
  role: Role;
  /** Tiers this principal may change; undefined means every tier. */
  tiers?: Tier[];
}

export const ACTIONS = {
  read: 'viewer',
  // Unlike `read`, bound by a token's tiers: a log line carries whatever a service printed
  // (customer data, a leaked token), so a dev-scoped viewer reads no prod logs.
  'logs.read': 'viewer',
  'environment.write': 'operator',
  'environment.deploy': 'operator',
  'clone.create': 'operator',
  // Copying a prod database as it is (a `snapshot` clone of a prod environment): raw customer data.
  'clone.data.prod': 'release-manager',
  'drill.create': 'operator',
  'promotion.create': 'release-manager',
  'promotion.approve': 'release-manager',
  'promotion.control': 'release-manager',
  'schedule.write': 'operator',
  'audit.read': 'admin',
  'cluster.write': 'admin',
  'rules.write': 'admin',
  'token.write': 'admin',
  // The Temporal payload codec endpoint: reading decrypted payloads of any operation, and making
  // payloads the worker will trust. Tier-scoped tokens may do neither (a payload has no tier).
  'payload.decode': 'release-manager',
  'payload.encode': 'admin',
} as const satisfies Record<string, Role>;
export type Action = keyof typeof ACTIONS;

export type Decision = { allowed: true } | { allowed: false; reason: string };

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(minimum);
}

/** May `principal` do `action` on objects of these tiers? */
export function authorize(principal: Principal, action: Action, tiers: readonly Tier[] = []): Decision {
  const minimum = ACTIONS[action];
  if (!roleAtLeast(principal.role, minimum)) {
    return { allowed: false, reason: `${action} needs role ${minimum} or higher; this token has ${principal.role}` };
  }
  if (action !== 'read' && principal.tiers) {
    const outside = tiers.filter((t) => !principal.tiers!.includes(t));
    if (outside.length > 0) {
      const verb = action === 'logs.read' ? 'read' : 'change';
      return { allowed: false, reason: `this token may ${verb} tiers ${principal.tiers.join(', ')} only, not ${[...new Set(outside)].join(', ')}` };
    }
  }
  return { allowed: true };
}
