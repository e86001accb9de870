// The harness templates read three fields of the render context and the problem's widths, nothing else; the
// program part carries no plan hash, so its object stays cached across DSL edits.
import { describe, expect, it } from 'vitest';

import { renderTemplate } from '../../dsl/render/handlebars.ts';

const context = { banner: '// BANNER LINE', variantId: 'mla_test_variant', dtypeList: 'bf16' };

describe('templates/harness', () => {
  const variant = renderTemplate('harness/harness.cu.hbs', context);
  const program = renderTemplate('harness/harness_main.cu.hbs', { ...context, harnessDims: { dQk: 320, dV: 256 } });

  it('harness.cu names the variant and its dtypes under the banner (strict mode)', () => {
    expect(variant.startsWith('// BANNER LINE\n')).toBe(true);
    expect(variant).toContain('extern const char* const mlagen_harness_variant_id = "mla_test_variant";');
    expect(variant).toContain('extern const char* const mlagen_harness_built_dtypes = "bf16";');
    expect(variant).not.toMatch(/\{\{|\}\}|#include/);
  });

  it('harness_main.cu wires all six ABI entry points without the generated header or the banner', () => {
    expect(program).not.toContain('BANNER');
    expect(program).not.toContain('#include "mlagen.h"');
    expect(program.indexOf('#include "mlagen/entry_points.h"')).toBeLessThan(program.indexOf('#include "mlagen/harness/modes.cuh"'));
    for (const fn of ['variant_id', 'last_error', 'num_sm_parts', 'workspace_bytes', 'get_metadata', 'decode'])
      expect(program).toContain(`lib.${fn} = &mlagen_${fn};`);
  });

  it('harness_main.cu compiles the GPU reference for the problem\'s widths, before the harness headers', () => {
    expect(program).toContain('#define MLAGEN_HARNESS_HEAD_DIM 320\n#define MLAGEN_HARNESS_VALUE_DIM 256\n');
    expect(program.indexOf('MLAGEN_HARNESS_VALUE_DIM')).toBeLessThan(program.indexOf('#include "mlagen/harness/modes.cuh"'));
  });

  it('accepts a list of dtypes as an array too', () => {
    const t = renderTemplate('harness/harness.cu.hbs', { banner: '', variantId: 'v', dtypeList: ['bf16', 'fp16'] });
    expect(t).toContain('mlagen_harness_built_dtypes = "bf16,fp16";');
  });
});
