// Integration tier set-up (every test file): whatever the catalog stores as a secret, and every
// API token it issues, in this process, is a canary of the leak scan (test/support/leak-registry.ts),
// however it got there: a test's catalog.secrets.put, PUT /v1/…/secrets, a kubeconfig in
// POST /v1/clusters (a transaction's repository), a database password a deploy generated.
import { SecretRepository } from '../../store/secrets.js';
import { TokenRepository } from '../../store/tokens.js';
import { observeSecret } from './leak-registry.js';

const hooked = Symbol.for('flotilla.leak-scan.hooked');
const protos = [SecretRepository.prototype, TokenRepository.prototype] as unknown as Record<symbol, boolean>[];
if (!protos.every((p) => p[hooked])) {
  const put = SecretRepository.prototype.put;
  SecretRepository.prototype.put = async function (this: SecretRepository, scope, name, value) {
    await put.call(this, scope, name, value);
    observeSecret(`secret ${scope}/${name}`, value);
  };
  const create = TokenRepository.prototype.create;
  TokenRepository.prototype.create = async function (this: TokenRepository, input) {
    const created = await create.call(this, input);
    observeSecret(`API token "${input.name}" (${input.role})`, created.token);
    return created;
  };
  for (const p of protos) p[hooked] = true;
}
