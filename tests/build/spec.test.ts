import { describe, expect, it } from 'vitest';
import { parseBuildSpec } from '../../scripts/build/spec.ts';

const valid = {
  variantId: 'v1',
  allowSpills: false,
  allowLocalMemory: false,
  includeDirs: ['include'],
  nvccFlags: ['-O3'],
  objects: [{ name: 'decode', source: 'decode.cu', ptxasReport: true }],
  links: [{ name: 'libv1', kind: 'shared', objects: ['decode'], libs: [] }],
};

describe('parseBuildSpec', () => {
  it('reads a spec; allowSerializedWgmma is optional and off by default', () => {
    expect(parseBuildSpec(valid, 'build.json').allowSerializedWgmma).toBe(false);
    expect(parseBuildSpec({ ...valid, allowSerializedWgmma: true }, 'build.json').allowSerializedWgmma).toBe(true);
  });

  it('names every bad field with its JSON path', () => {
    expect(() => parseBuildSpec({ ...valid, allowSerializedWgmma: 'yes', allowSpills: 1 }, 'gen/v1/build.json')).toThrow(
      /\$\.allowSpills: expected true or false, got 1[\s\S]*\$\.allowSerializedWgmma: expected true or false, got "yes"/,
    );
  });
});
