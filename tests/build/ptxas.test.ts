// The ptxas -v parser, on reports nvcc 13.0 printed for the kernels in fixtures/ptxas/
// (regenerate.sh there rewrites them), plus the resource check that turns them into pass/fail.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { displayName, parsePtxasOutput, type ResourceReport } from '../../scripts/build/ptxas.ts';
import { checkResources, mergeReports, ptxasWarnings } from '../../scripts/build/resourceCheck.ts';

const fixture = (name: string): ResourceReport =>
  parsePtxasOutput(readFileSync(new URL(`fixtures/ptxas/${name}.ptxas.txt`, import.meta.url), 'utf8'));

const kernel = (r: ResourceReport, name: string) => {
  const k = r.kernels.find((f) => f.displayName === name);
  if (!k) throw new Error(`no kernel ${name} in ${r.kernels.map((f) => f.displayName).join(', ')}`);
  return k;
};

describe('parsePtxasOutput', () => {
  it('reads registers, barriers and static shared memory per kernel', () => {
    const r = fixture('basic');
    expect(r.kernels.map((k) => k.name)).toEqual(['_Z9with_smemPf', '_Z7add_onePfi']);
    expect(kernel(r, 'with_smem')).toMatchObject({
      isEntry: true, arch: 'sm_90a', registers: 10, barriers: 1, sharedBytes: 4096,
      stackFrameBytes: 0, spillStoreBytes: 0, spillLoadBytes: 0, cumulativeStackBytes: 0,
    });
    expect(kernel(r, 'add_one')).toMatchObject({ registers: 8, barriers: 0, sharedBytes: 0 });
    expect(r.diagnostics).toEqual([]);
    expect(r.gmemBytes).toBe(0);
  });

  it('reads spills, stack frames and non-inlined device functions', () => {
    const r = fixture('spill');
    expect(kernel(r, 'spiller')).toMatchObject({
      registers: 32, stackFrameBytes: 1112, spillStoreBytes: 2132, spillLoadBytes: 2156, cumulativeStackBytes: 1112,
    });
    expect(kernel(r, 'local_arr')).toMatchObject({ stackFrameBytes: 384, spillStoreBytes: 0, cumulativeStackBytes: 384 });
    expect(r.deviceFunctions).toEqual([
      expect.objectContaining({ name: '_Z6helperPfi', isEntry: false, arch: null, registers: null, stackFrameBytes: 0 }),
    ]);
    // "Overriding maximum register limit" is an ordinary note, not a diagnostic.
    expect(r.diagnostics).toEqual([]);
  });

  it('classifies wgmma serialization, injected waits and ignored setmaxnreg', () => {
    const r = fixture('wgmma');
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'info', code: 'C7508', kind: 'setmaxnreg-ignored', function: null,
        reason: 'unable to determine register count at entry',
      }),
      expect.objectContaining({ code: 'C7517', kind: 'wgmma-wait-injected', function: '_Z9mma_touchPfmmi' }),
      expect.objectContaining({
        code: 'C7511', kind: 'wgmma-serialized', function: '_Z9mma_touchPfmmi',
        reason: 'insufficient register resources for the wgmma pipeline',
      }),
    ]);
    expect(kernel(r, 'mma_ok')).toMatchObject({ registers: 168, sharedBytes: 16384 });
  });

  it('reads the extern-call serialization and the cross-unit setmaxnreg note', () => {
    const r = fixture('extern_call');
    expect(r.diagnostics.map((d) => [d.code, d.kind, d.function, d.reason])).toEqual([
      ['C7504', 'setmaxnreg-ignored', null, 'to maintain compatibility across compilation units'],
      ['C7509', 'wgmma-serialized', '_Z10mma_externPfmmi', 'the presence of Extern calls'],
    ]);
    expect(kernel(r, 'mma_extern')).toMatchObject({ registers: 66, spillStoreBytes: 452, spillLoadBytes: 256 });
  });

  it('keeps ptxas errors, with the function they name', () => {
    const r = fixture('too_much_smem');
    expect(r.diagnostics).toEqual([
      expect.objectContaining({ severity: 'error', code: null, kind: 'other', function: '_Z3hogPf' }),
    ]);
    expect(r.diagnostics[0]!.message).toMatch(/uses too much shared data \(0x3a980 bytes, 0x38c00 max\)/);
    expect(kernel(r, 'hog').sharedBytes).toBe(240000);
  });

  it('reads constant memory banks in the format of CUDA 12 releases (hand-written sample)', () => {
    const r = parsePtxasOutput(
      [
        "ptxas info    : 0 bytes gmem, 40 bytes cmem[4]",
        "ptxas info    : Compiling entry function '_Z3fooPf' for 'sm_90a'",
        'ptxas info    : Function properties for _Z3fooPf',
        '    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads',
        'ptxas info    : Used 12 registers, 360 bytes cmem[0], 8 bytes cmem[2]',
      ].join('\n'),
    );
    expect(kernel(r, 'foo')).toMatchObject({ registers: 12, barriers: null, cmemBytes: { '0': 360, '2': 8 } });
  });

  it('ignores what is not ptxas (compiler warnings, blank lines)', () => {
    const r = parsePtxasOutput('decode.cu(3): warning #177-D: variable "x" was declared but never referenced\n\n');
    expect(r).toEqual({ gmemBytes: 0, kernels: [], deviceFunctions: [], diagnostics: [] });
  });
});

describe('displayName', () => {
  it.each([
    ['_Z9with_smemPf', 'with_smem'],
    ['_ZN6mlagen6decodeILi64EEEvPf', 'mlagen::decode'],
    ['_Z6opaquePf$1', 'opaque'],
    ['mla_decode_kernel', 'mla_decode_kernel'],
    ['_Zgarbage', '_Zgarbage'],
  ])('%s -> %s', (mangled, shown) => expect(displayName(mangled)).toBe(shown));
});

describe('checkResources', () => {
  const strict = { allowSpills: false, allowLocalMemory: false };
  const spec = 'generated/v1/build.json';

  it('fails a spilling kernel, naming it, the numbers and the switch', () => {
    const report = mergeReports([{ object: 'decode', report: fixture('spill') }]);
    const violations = checkResources(report, strict, spec);
    expect(violations.map((v) => [v.kind, v.function])).toEqual([
      ['local-memory', '_Z9local_arrPfi'],
      ['spills', '_Z7spillerPfPKfi'],
    ]);
    expect(violations[1]!.message).toBe(
      'kernel spiller (_Z7spillerPfPKfi) in decode.o spills registers: 2132 B spill stores, 2156 B spill loads, ' +
        '1112 B stack frame, 32 registers. Set "allowSpills": true in generated/v1/build.json to accept this.',
    );
    expect(violations[0]!.message).toMatch(/kernel local_arr .* uses local memory: 384 B stack frame.*"allowLocalMemory": true in generated\/v1\/build.json/);
  });

  it('fails a kernel whose wgmma ptxas serialized, naming the cause and the switch', () => {
    const report = mergeReports([{ object: 'decode', report: fixture('wgmma') }]);
    const violations = checkResources(report, strict, spec);
    expect(violations.map((v) => [v.kind, v.function])).toEqual([['wgmma-serialized', '_Z9mma_touchPfmmi']]);
    expect(violations[0]!.message).toBe(
      'mma_touch in decode.o: ptxas serialized its wgmma.mma_async instructions (C7511: insufficient register resources ' +
        'for the wgmma pipeline); every product then waits for the one before. ' +
        'Set "allowSerializedWgmma": true in generated/v1/build.json to accept this.',
    );
    expect(checkResources(report, { ...strict, allowSerializedWgmma: true }, spec)).toEqual([]);
  });

  it('judges each switch on its own', () => {
    const report = fixture('spill');
    expect(checkResources(report, { allowSpills: true, allowLocalMemory: false }, spec).map((v) => v.kind)).toEqual(['local-memory']);
    expect(checkResources(report, { allowSpills: false, allowLocalMemory: true }, spec).map((v) => v.kind)).toEqual(['spills']);
    expect(checkResources(report, { allowSpills: true, allowLocalMemory: true }, spec)).toEqual([]);
  });

  it('passes clean kernels and reports ptxas notes as warnings', () => {
    const report = mergeReports([{ object: 'decode', report: fixture('wgmma') }]);
    expect(checkResources(report, { ...strict, allowSerializedWgmma: true }, spec)).toEqual([]);
    expect(ptxasWarnings(report)).toEqual([
      "decode.o: ptxas info: (C7508) Potential Performance Loss: 'setmaxnreg' ignored; unable to determine register count at entry.",
      expect.stringContaining('(C7517) warpgroup.wait is injected'),
      expect.stringContaining('(C7511) Potential Performance Loss: wgmma.mma_async instructions are serialized'),
    ]);
  });
});
