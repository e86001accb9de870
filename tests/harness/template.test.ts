// The harness template reads three fields of the render context and nothing else.
import { describe, expect, it } from 'vitest';

import { renderTemplate } from '../../dsl/render/handlebars.ts';

describe('templates/harness/harness.cu.hbs', () => {
  const text = renderTemplate('harness/harness.cu.hbs', {
    banner: '// BANNER LINE',
    variantId: 'mla_test_variant',
    dtypeList: 'bf16',
  });

  it('renders with only banner, variantId and dtypeList (strict mode)', () => {
    expect(text.startsWith('// BANNER LINE\n')).toBe(true);
    expect(text).toContain('constexpr char kVariantId[] = "mla_test_variant";');
    expect(text).toContain('constexpr char kBuiltDtypes[] = "bf16";');
    expect(text).not.toMatch(/\{\{|\}\}/);
  });

  it('includes the generated header before the harness and wires all six ABI entry points', () => {
    expect(text.indexOf('#include "mlagen.h"')).toBeLessThan(text.indexOf('#include "mlagen/harness/modes.cuh"'));
    for (const fn of ['variant_id', 'last_error', 'num_sm_parts', 'workspace_bytes', 'get_metadata', 'decode'])
      expect(text).toContain(`lib.${fn} = &mlagen_${fn};`);
  });

  it('accepts a list of dtypes as an array too', () => {
    const t = renderTemplate('harness/harness.cu.hbs', { banner: '', variantId: 'v', dtypeList: ['bf16', 'fp16'] });
    expect(t).toContain('kBuiltDtypes[] = "bf16,fp16";');
  });
});
