import { describe, expect, it } from 'vitest';
import { deriveSwizzle, swizzleOffset, SWIZZLE_BYTES } from '../../dsl/layout/swizzle.ts';
import { smemTile, tileElementOffset } from '../../dsl/layout/smemTile.ts';

describe('swizzle', () => {
  it('128B matches the TMA pattern: chunk c of 128-byte row r lands at chunk c ^ (r % 8)', () => {
    for (let row = 0; row < 64; ++row)
      for (let chunk = 0; chunk < 8; ++chunk)
        for (let byte = 0; byte < 16; byte += 4) {
          const brute = row * 128 + ((chunk ^ (row % 8)) * 16) + byte;
          expect(swizzleOffset('128B', row * 128 + chunk * 16 + byte)).toBe(brute);
        }
  });

  it.each(['32B', '64B', '128B'] as const)('%s permutes 16-byte chunks within each 1024-byte atom', (mode) => {
    for (let atom = 0; atom < 4; ++atom) {
      const seen = new Set<number>();
      for (let off = atom * 1024; off < (atom + 1) * 1024; off += 16) {
        const s = swizzleOffset(mode, off);
        expect(Math.floor(s / 1024)).toBe(atom);
        // Only the chunk index moves: the span a chunk belongs to stays.
        expect(Math.floor(s / SWIZZLE_BYTES[mode])).toBe(Math.floor(off / SWIZZLE_BYTES[mode]));
        seen.add(s);
      }
      expect(seen.size).toBe(64);
    }
  });

  it('is the identity without a swizzle', () => {
    for (let off = 0; off < 4096; off += 16) expect(swizzleOffset('none', off)).toBe(off);
  });

  it('derives the widest span that divides the row', () => {
    expect(deriveSwizzle('bf16', 576)).toBe('128B');
    expect(deriveSwizzle('bf16', 32)).toBe('64B');
    expect(deriveSwizzle('bf16', 16)).toBe('32B');
    expect(deriveSwizzle('fp8_e4m3', 576)).toBe('64B');
    expect(deriveSwizzle('bf16', 8)).toBe('none');
  });
});

describe('smemTile', () => {
  it('stores a 64 x 576 bf16 tile as nine 8 KB column blocks', () => {
    const t = smemTile('kv', 'bf16', 64, 576);
    expect(t).toMatchObject({ swizzle: '128B', blockCols: 64, blockBytes: 8192, bytes: 73728, alignment: 1024 });
  });

  it('places every element once, inside its column block, as the kernel Q loader does', () => {
    const t = smemTile('q', 'bf16', 64, 576);
    const seen = new Set<number>();
    for (let r = 0; r < 64; ++r)
      for (let c = 0; c < 576; ++c) {
        const off = tileElementOffset(t, r, c);
        expect(Math.floor(off / t.blockBytes)).toBe(Math.floor(c / 64));
        // Kernel formula: block * blockBytes + swizzle(r * 128 + (c % 64) * 2)
        expect(off).toBe(Math.floor(c / 64) * 8192 + swizzleOffset('128B', r * 128 + (c % 64) * 2));
        seen.add(off);
      }
    expect(seen.size).toBe(64 * 576);
    expect(Math.max(...seen)).toBe(t.bytes - 2);
  });
});
