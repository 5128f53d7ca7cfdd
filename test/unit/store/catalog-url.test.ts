import { describe, expect, it } from 'vitest';
import { parseCatalogUrl } from '../../../store/database.js';
import { newId } from '../../../store/ids.js';
import { clampLimit, decodeCursor, encodeCursor } from '../../../store/pagination.js';

describe('parseCatalogUrl', () => {
  it('reads SQLite and PostgreSQL URLs', () => {
    expect(parseCatalogUrl('sqlite:///var/lib/flotilla/catalog.db')).toEqual({ dialect: 'sqlite', filename: '/var/lib/flotilla/catalog.db' });
    expect(parseCatalogUrl('sqlite:///tmp/with%20space.db')).toEqual({ dialect: 'sqlite', filename: '/tmp/with space.db' });
    expect(parseCatalogUrl('sqlite::memory:')).toEqual({ dialect: 'sqlite', filename: ':memory:' });
    expect(parseCatalogUrl('sqlite:.flotilla/catalog.db')).toEqual({ dialect: 'sqlite', filename: '.flotilla/catalog.db' });
    expect(parseCatalogUrl('postgres://u:p@db:5432/flotilla')).toEqual({ dialect: 'postgres', connectionString: 'postgres://u:p@db:5432/flotilla' });
    expect(parseCatalogUrl('postgresql://db/flotilla').dialect).toBe('postgres');
  });

  it('refuses other URLs without echoing them (they can hold passwords)', () => {
    expect(() => parseCatalogUrl('mysql://root:hunter2@db/x')).toThrow('catalog URL: unsupported scheme "mysql"; use sqlite: or postgres:');
    expect(() => parseCatalogUrl('sqlite://host/file.db')).toThrow(/three slashes/);
    expect(() => parseCatalogUrl('catalog.db')).toThrow(/scheme \(none\)/);
  });
});

describe('ids and cursors', () => {
  it('makes ids that sort in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 50 }, () => newId(1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(50);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('round-trips cursors and refuses forged ones', () => {
    const position = { at: '2030-01-01T00:00:00.000Z', id: newId() };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
    expect(() => decodeCursor('e30')).toThrow('invalid cursor');
    expect(clampLimit(undefined)).toBe(50);
    expect(clampLimit(10_000)).toBe(500);
    expect(() => clampLimit(0)).toThrow(/positive integer/);
  });
});
