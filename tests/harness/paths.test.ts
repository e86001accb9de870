import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { variantSchedule } from '../../scripts/harness/paths.ts';

describe('variantSchedule', () => {
  const root = mkdtempSync(join(tmpdir(), 'mlagen-paths-'));
  const put = (rel: string, obj: object) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), JSON.stringify(obj));
  };
  put('generated/v_fo3/plan.json', { schedule: { blockN: 64, fixedOverheadBlocks: 3, blockM: 64 } });
  put('generated/disp/routes.json', { rules: [{ variantId: 'v_fo3' }] });

  it("reads the variant's own schedule (a tuned split cost, not the default)", () => {
    expect(variantSchedule(root, 'v_fo3')).toEqual({ blockN: 64, fixedOverheadBlocks: 3, blockM: 64 });
  });
  it("gives the dispatcher its routed variants' schedule, and nothing for an unknown id", () => {
    expect(variantSchedule(root, 'disp')?.fixedOverheadBlocks).toBe(3);
    expect(variantSchedule(root, 'missing')).toBeUndefined();
  });
  it('matches the committed catalogue', () => {
    expect(variantSchedule(process.cwd(), 'mla_sm90_dispatch')).toEqual({ blockN: 64, fixedOverheadBlocks: 5, blockM: 64 });
  });
});
