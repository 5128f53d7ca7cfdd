import { describe, expect, it } from 'vitest';
import { forbiddenServer } from '../../../domain/endpoints.js';

describe('forbiddenServer', () => {
  it.each([
    ['https://169.254.169.254', 'a cloud metadata service address'],
    ['https://169.254.169.254:443/latest/meta-data', 'a cloud metadata service address'],
    ['https://169.254.10.1:6443', 'a link-local address'],
    ['https://[fe80::1]:6443', 'a link-local address'],
    ['https://[fd00:ec2::254]', 'a cloud metadata service address'],
    ['https://[::ffff:169.254.169.254]', 'a cloud metadata service address'],
    ['https://metadata.google.internal', 'a cloud metadata service address'],
    ['https://METADATA.GOOGLE.INTERNAL.', 'a cloud metadata service address'],
    ['https://100.100.100.200', 'a cloud metadata service address'],
    ['https://0.0.0.0:6443', 'the unspecified address'],
  ])('refuses %s (%s)', (server, reason) => {
    expect(forbiddenServer(server)).toBe(reason);
  });

  it.each([
    'https://127.0.0.1:6443', 'https://10.0.0.1:6443', 'https://192.168.1.10', 'https://172.16.0.5',
    'https://api.prod.example.com', 'https://[2001:db8::1]:6443', 'https://169.255.0.1', 'https://1.169.254.1',
  ])('accepts %s', (server) => {
    expect(forbiddenServer(server)).toBeUndefined();
  });
});
