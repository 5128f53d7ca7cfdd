// Where a cluster's API server may be. A registered server is called with the cluster's
// credentials (and, on deploy, its secrets), so a server on a link-local or cloud metadata
// address would turn Flotilla into a client of the host's own metadata service.

const METADATA_HOSTS = new Set([
  'metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal',
  '100.100.100.200', // Alibaba Cloud's metadata service
  'fd00:ec2::254', // AWS's IMDS over IPv6
]);

/** Why a server URL may not be used (link-local, metadata, unspecified), or undefined when it may. */
export function forbiddenServer(server: string): string | undefined {
  let host: string;
  try {
    host = new URL(server).hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  } catch {
    return 'not a URL';
  }
  if (METADATA_HOSTS.has(host)) return 'a cloud metadata service address';
  const v4 = ipv4Of(host);
  if (v4) {
    if (v4[0] === 169 && v4[1] === 254) return v4[2] === 169 && v4[3] === 254 ? 'a cloud metadata service address' : 'a link-local address';
    if (v4.every((n) => n === 0)) return 'the unspecified address';
    return undefined;
  }
  if (host.includes(':')) {
    if (/^fe[89ab][0-9a-f]?:/.test(host)) return 'a link-local address';
    if (host === '::') return 'the unspecified address';
  }
  return undefined;
}

/** The four octets of a dotted IPv4 address, also inside an IPv4-mapped IPv6 one; else undefined. */
function ipv4Of(host: string): number[] | undefined {
  const dotted = host.startsWith('::ffff:') ? host.slice('::ffff:'.length) : host;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (hex) {
    const [hi, lo] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
    return [hi >> 8, hi & 255, lo >> 8, lo & 255];
  }
  const parts = dotted.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return undefined;
  const octets = parts.map(Number);
  return octets.every((n) => n <= 255) ? octets : undefined;
}
