// `mlagen emit torch`: the package tree, setup.py, the dispatch table, the shims and the glue, checked on the CPU.
// Python files are parsed with python3's ast; the torch-free C++ (the dispatch table) is compiled with g++; the glue
// is compiled against a minimal stand-in for the torch headers it uses (no torch here); with nvcc, both variant shims
// are compiled and linked into one shared library with the table, which fails on any duplicate or missing symbol.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { REPO_ROOT } from '../../dsl/render/repoRoot.ts';
import { variants as manifestVariants } from '../../generated/manifest.ts';
import { parseVariantList, runEmitTorch } from '../../scripts/commands/emit.ts';
import { locateNvcc } from '../../scripts/build/nvcc.ts';
import { EMIT_RECORD, TorchEmitError, renderTorchPackage, writeTorchPackage, type TorchPackage } from '../../scripts/torch/emit.ts';
import { checkSharedSchedule, declaredEntryPoints, dispatchOrder, renamedSymbol, type TorchVariant } from '../../scripts/torch/variants.ts';

/** Manifest ids in dispatch order: the narrowest rows range first, ties in manifest order. */
const ids = manifestVariants
  .map((v, i) => ({ v, i }))
  .sort((a, b) => a.v.rows.max - a.v.rows.min - (b.v.rows.max - b.v.rows.min) || a.i - b.i)
  .map((x) => x.v.id);

function has(cmd: string, args: string[] = ['--version']): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let pkg: TorchPackage;
let dir: string;

beforeAll(async () => {
  pkg = await renderTorchPackage({ root: REPO_ROOT });
  dir = mkdtempSync(join(tmpdir(), 'mlagen-torch-'));
  await writeTorchPackage(dir, pkg);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const text = (rel: string) => {
  const t = pkg.files.get(rel);
  if (t === undefined) throw new Error(`${rel} not emitted`);
  return t;
};

describe('mlagen emit torch: the tree', () => {
  it('emits the package, the glue, one shim per variant, the generated sources and their headers', () => {
    const expected = [
      'MANIFEST.in',
      'README.md',
      'bench/bench_flash_mla.py',
      ...ids.flatMap((id) => [`csrc/generated/${id}/decode.cu`, `csrc/generated/${id}/mlagen.h`]),
      'csrc/include/mlagen/abi.h',
      'csrc/include/mlagen/combine.cuh',
      'csrc/include/mlagen/host_check.h',
      'csrc/include/mlagen/ptx.cuh',
      'csrc/include/mlagen/sched_metadata.cuh',
      'csrc/include/mlagen/tile.cuh',
      'csrc/mlagen_torch.cpp',
      'csrc/mlagen_variants.h',
      ...ids.map((id) => `csrc/variants/${id}.cu`),
      EMIT_RECORD,
      'mlagen_torch/__init__.py',
      'pyproject.toml',
      'setup.py',
      'tests/conftest.py',
      'tests/mla_ref.py',
      'tests/test_errors.py',
      'tests/test_flash_mla.py',
      'tests/test_graph.py',
    ].sort();
    const actual = [...pkg.files.keys()].sort();
    // Headers are collected from the includes; a header added to decode.cu later shows up here as an extra.
    expect(actual.filter((f) => !f.startsWith('csrc/include/'))).toEqual(expected.filter((f) => !f.startsWith('csrc/include/')));
    for (const h of expected.filter((f) => f.startsWith('csrc/include/'))) expect(actual).toContain(h);
    for (const f of actual) expect(existsSync(join(dir, ...f.split('/'))), f).toBe(true);
    expect(JSON.parse(text(EMIT_RECORD)).files).toEqual(actual);
  });

  it('copies the generated sources unchanged and never includes harness headers', () => {
    for (const id of ids) {
      expect(text(`csrc/generated/${id}/decode.cu`)).toBe(readFileSync(join(REPO_ROOT, 'generated', id, 'decode.cu'), 'utf8'));
      expect(text(`csrc/generated/${id}/mlagen.h`)).toBe(readFileSync(join(REPO_ROOT, 'generated', id, 'mlagen.h'), 'utf8'));
    }
    expect([...pkg.files.keys()].filter((f) => f.includes('harness'))).toEqual([]);
  });

  it('keeps torch out of every CUDA source and the dispatch table', () => {
    for (const [f, t] of pkg.files) {
      if (f.endsWith('.cu') || f.endsWith('.cuh') || f.endsWith('.h')) {
        expect(t, f).not.toMatch(/#\s*include\s*[<"](torch|ATen|c10|pybind11)\//);
      }
    }
    expect(text('csrc/mlagen_torch.cpp')).toMatch(/#include <torch\/extension\.h>/);
  });

  it('leaves no template syntax behind', () => {
    for (const [f, t] of pkg.files) if (!f.startsWith('csrc/generated/') && !f.startsWith('csrc/include/')) expect(t, f).not.toMatch(/\{\{|\}\}\}/);
  });
});

describe('setup.py', () => {
  const setup = () => text('setup.py');

  it('names the glue and every variant shim as sources, and only those', () => {
    const m = /SOURCES = \[\n([\s\S]*?)\n\]/.exec(setup());
    expect(m).not.toBeNull();
    const sources = [...m![1]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]);
    expect(sources).toEqual(['csrc/mlagen_torch.cpp', ...ids.map((id) => `csrc/variants/${id}.cu`)]);
    for (const s of sources) expect(pkg.files.has(s!), s).toBe(true);
  });

  it('builds a CUDAExtension for sm_90a with C++17 and -O3', () => {
    const s = setup();
    expect(s).toContain('CUDAExtension(');
    expect(s).toContain('name="mlagen_torch._C"');
    expect(s).toMatch(/"-gencode",\n\s*"arch=compute_90a,code=sm_90a"/);
    expect(s).toContain('"-std=c++17"');
    expect(s).toContain('"-O3"');
    expect(s).toContain('"-U__CUDA_NO_BFLOAT16_CONVERSIONS__"');
    expect(s).toContain('cmdclass={"build_ext": BuildExtension}');
    expect(s).toContain('str(HERE / "csrc" / "include")');
  });
});

describe('the dispatch table', () => {
  const table = () => text('csrc/mlagen_variants.h');

  it('covers every manifest variant, in dispatch order, with its dtype, page size and rows', () => {
    const t = table();
    const entries = [...t.matchAll(/Variant\{"([^"]+)", (MLAGEN_\w+), (MLAGEN_\w+), (MLAGEN_\w+),\s*\/\*page_size=\*\/(\d+)/g)];
    expect(entries.map((e) => e[1])).toEqual(ids);
    expect([...ids].sort()).toEqual(manifestVariants.map((v) => v.id).sort());
    expect(manifestVariants.some((v) => v.kvDtype === 'fp8_e4m3')).toBe(true);  // fp8 caches served too
    for (const v of manifestVariants) {
      const e = entries[ids.indexOf(v.id)]!;
      expect(e[2]).toBe(v.qDtype === 'bf16' ? 'MLAGEN_BF16' : 'MLAGEN_FP16');
      expect(e[3]).toBe({ bf16: 'MLAGEN_BF16', fp16: 'MLAGEN_FP16', fp8_e4m3: 'MLAGEN_FP8_E4M3' }[v.kvDtype]);
      expect(Number(e[5])).toBe(v.pageSize);
      expect(t).toContain(`/*rows=*/Range{ ${v.rows.min}, ${v.rows.max} }`);
    }
    expect(t).toContain(`constexpr int kNumVariants = ${ids.length};`);
  });

  it('declares and points at each variant\'s renamed entry points, and the shims define exactly those names', () => {
    const t = table();
    for (const id of ids) {
      const declared = declaredEntryPoints(readFileSync(join(REPO_ROOT, 'generated', id, 'mlagen.h'), 'utf8'));
      const shim = text(`csrc/variants/${id}.cu`);
      for (const entry of declared) {
        const sym = renamedSymbol(id, entry);
        expect(shim).toContain(`#define ${entry} ${sym}\n`);
        expect(t).toMatch(new RegExp(`\\b${sym}\\(`));
        expect(t).toContain(`&${sym}`);
      }
      expect(shim).toContain(`#include "../generated/${id}/decode.cu"`);
      expect(shim.indexOf('#define')).toBeLessThan(shim.indexOf('#include'));
    }
  });

  it('lists the variant ids in the Python package too', () => {
    const init = text('mlagen_torch/__init__.py');
    for (const id of ids) expect(init).toContain(`    "${id}",\n`);
  });

  it('refuses variants whose split-KV schedules differ (get_mla_metadata serves them all)', () => {
    const v = pkg.variants.find((x) => x.schedule.blockM === 64)!;
    const other: TorchVariant = { ...v, id: 'other', schedule: { ...v.schedule, blockN: v.schedule.blockN * 2 } };
    expect(() => checkSharedSchedule([v, other])).toThrow(TorchEmitError);
    expect(() => checkSharedSchedule([v, other])).toThrow(/schedules split-KV with .*emit them into separate packages/);
    expect(() => checkSharedSchedule([v, { ...v, id: 'same' }])).not.toThrow();
    // Fewer rows per m-block (transposed): only for rows one m-block holds, where both plan the same SM parts.
    const few: TorchVariant = { ...v, id: 'few', rows: { min: 1, max: 16 }, schedule: { ...v.schedule, blockM: 16 } };
    expect(() => checkSharedSchedule([v, few])).not.toThrow();
    expect(() => checkSharedSchedule([v, { ...few, rows: { min: 1, max: 64 } }])).toThrow(/takes 16 rows per m-block but serves rows up to 64/);
    // The package names the planners' schedule, not the first (narrowest) variant's.
    expect(text('README.md')).toContain('64 rows per m-block');
  });

  it('tries the narrowest rows range first, ties in the order given', () => {
    const v = pkg.variants[0]!;
    const general: TorchVariant = { ...v, id: 'general', rows: { min: 1, max: 512 } };
    const tuned: TorchVariant = { ...v, id: 'tuned', rows: { min: 129, max: 512 } };
    const other: TorchVariant = { ...v, id: 'other', rows: { min: 1, max: 512 } };
    expect(dispatchOrder([general, tuned, other]).map((x) => x.id)).toEqual(['tuned', 'general', 'other']);
  });

  it('reads the entry points a header declares', () => {
    const h = '// mlagen_fake(void) in a comment\nconst char* mlagen_variant_id(void);\nsize_t mlagen_workspace_bytes(int32_t batch);\n';
    expect(declaredEntryPoints(h)).toEqual(['mlagen_variant_id', 'mlagen_workspace_bytes']);
  });
});

describe('--variants', () => {
  it('emits a subset in the order given', async () => {
    const one = await renderTorchPackage({ root: REPO_ROOT, variants: [ids[ids.length - 1]!] });
    expect(one.variants.map((v) => v.id)).toEqual([ids[ids.length - 1]]);
    expect([...one.files.keys()].filter((f) => f.startsWith('csrc/variants/'))).toEqual([`csrc/variants/${ids[ids.length - 1]}.cu`]);
    if (ids.length > 1) {
      const rev = await renderTorchPackage({ root: REPO_ROOT, variants: [...ids].reverse() });
      // The glue tries the narrowest rows range first; ties keep the order given.
      const span = (id: string) => rev.variants.find((v) => v.id === id)!.rows;
      const expected = [...ids].reverse().sort((a, b) => (span(a).max - span(a).min) - (span(b).max - span(b).min));
      expect([...rev.files.get('csrc/mlagen_variants.h')!.matchAll(/Variant\{"([^"]+)"/g)].map((m) => m[1])).toEqual(expected);
    }
  });

  it('names an unknown or repeated id', async () => {
    await expect(renderTorchPackage({ root: REPO_ROOT, variants: ['nope'] })).rejects.toThrow(/--variants: nope is not in generated\/manifest\.ts/);
    await expect(renderTorchPackage({ root: REPO_ROOT, variants: [ids[0]!, ids[0]!] })).rejects.toThrow(/is named twice/);
  });

  it('parses comma- and space-separated lists', () => {
    expect(parseVariantList('a,b  c, ')).toEqual(['a', 'b', 'c']);
    expect(parseVariantList(undefined)).toEqual([]);
  });
});

describe('writing', () => {
  it('updates an earlier emit in place, removes what it no longer has, refuses a foreign non-empty folder', async () => {
    const d = mkdtempSync(join(tmpdir(), 'mlagen-torch-w-'));
    try {
      const io = { out: '', err: '' };
      const sink = { stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
      expect(await runEmitTorch(d, { root: REPO_ROOT }, sink)).toBe(0);
      expect(io.out).toMatch(/wrote .*mlagen_torch over \d+ variant/);
      if (ids.length > 1) {
        expect(await runEmitTorch(d, { root: REPO_ROOT, variants: ids[0] }, sink)).toBe(0);
        expect(existsSync(join(d, 'csrc', 'variants', `${ids[1]}.cu`))).toBe(false);
        expect(existsSync(join(d, 'csrc', 'variants', `${ids[0]}.cu`))).toBe(true);
      }
      const foreign = join(d, 'foreign');
      mkdirSync(foreign);
      writeFileSync(join(foreign, 'keep.txt'), 'mine');
      expect(await runEmitTorch(foreign, { root: REPO_ROOT }, sink)).toBe(1);
      expect(io.err).toMatch(/is not empty and holds no mlagen-emit\.json/);
      expect(readFileSync(join(foreign, 'keep.txt'), 'utf8')).toBe('mine');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!has('python3'))('the Python files parse', () => {
  it('every .py file is valid Python (ast.parse)', () => {
    const py = [...pkg.files.keys()].filter((f) => f.endsWith('.py'));
    expect(py.length).toBeGreaterThanOrEqual(7);
    const script = 'import ast, sys\nfor f in sys.argv[1:]:\n    ast.parse(open(f, encoding="utf-8").read(), f)\nprint("ok")';
    const out = execFileSync('python3', ['-c', script, ...py.map((f) => join(dir, ...f.split('/')))], { encoding: 'utf8' });
    expect(out.trim()).toBe('ok');
  });

  it('the tests cover the 48-case matrix and every error path the brief lists', () => {
    const flash = text('tests/test_flash_mla.py');
    expect(flash).toContain('for sk in SKS for h_q in (16, 32, 64, 128) for s_q in (1, 2) for varlen in (False, True)');
    expect(flash).toContain('"4096,8192,16384"');
    expect(flash).toContain('b = 128');
    const errors = text('tests/test_errors.py');
    for (const t of [
      'test_q_wrong_dtype', 'test_wrong_device', 'test_non_contiguous_last_dim', 'test_q_wrong_rank', 'test_head_dim_v_must_be_512',
      'test_metadata_wrong_width', 'test_metadata_made_for_another_shape', 'test_num_splits_wrong_length', 'test_h_q_out_of_range',
      'test_page_size_mismatch', 'test_abi_rejects_unaligned_head_stride',
    ])
      expect(errors).toContain(`def ${t}(`);
    expect(text('tests/test_graph.py')).toContain('torch.cuda.graph(graph)');
    expect(text('bench/bench_flash_mla.py')).toContain('triton.testing.do_bench(');
  });
});

describe.skipIf(!has('g++'))('the C++ compiles without torch', () => {
  it('the dispatch table compiles with g++ -std=c++17 and names every variant once', () => {
    const main = join(dir, 'table_check.cpp');
    writeFileSync(
      main,
      [
        '#include "mlagen_variants.h"',
        '#include <cstring>',
        'static_assert(mlagen_torch::kNumVariants == ' + ids.length + ', "variant count");',
        'int count_distinct() {',
        '  int n = 0;',
        '  for (int i = 0; i < mlagen_torch::kNumVariants; ++i) {',
        '    bool dup = false;',
        '    for (int j = 0; j < i; ++j) dup = dup || std::strcmp(mlagen_torch::kVariants[i].id, mlagen_torch::kVariants[j].id) == 0;',
        '    n += dup ? 0 : 1;',
        '  }',
        '  return n;',
        '}',
        '',
      ].join('\n'),
    );
    execFileSync('g++', ['-std=c++17', '-fsyntax-only', '-Wall', '-Wextra', '-Werror', '-I', join(dir, 'csrc'), '-I', join(dir, 'csrc', 'include'), main], {
      stdio: 'pipe',
    });
  });

  it('the glue compiles against a stand-in for the torch headers it uses', () => {
    const stub = join(dir, 'torch-stub');
    for (const [rel, body] of Object.entries(TORCH_STUB)) {
      const f = join(stub, ...rel.split('/'));
      mkdirSync(join(f, '..'), { recursive: true });
      writeFileSync(f, body);
    }
    try {
      execFileSync(
        'g++',
        ['-std=c++17', '-fsyntax-only', '-Wall', '-Wextra', '-Werror', '-DTORCH_EXTENSION_NAME=_C', '-I', stub, '-I', join(dir, 'csrc'), '-I', join(dir, 'csrc', 'include'), join(dir, 'csrc', 'mlagen_torch.cpp')],
        { stdio: 'pipe', encoding: 'utf8' },
      );
    } catch (e) {
      throw new Error(`glue does not compile:\n${(e as { stderr?: string }).stderr ?? e}`);
    }
  });
});

const nvcc = await locateNvcc().catch(() => null);

describe.skipIf(!nvcc || !has('g++'))('the variants link into one library', () => {
  it('both shims compile with the package flags and link with the table, with no duplicate symbol', () => {
    const objs: string[] = [];
    for (const id of ids) {
      const obj = join(dir, `${id}.o`);
      // PTX only (code=compute_90a): the host side, the renames and the link are what is under test here.
      execFileSync(
        nvcc!.path,
        ['-c', '-std=c++17', '-O1', '-gencode', 'arch=compute_90a,code=compute_90a', '-Xcompiler', '-fPIC',
          '-U__CUDA_NO_HALF_OPERATORS__', '-I', join(dir, 'csrc', 'include'), join(dir, 'csrc', 'variants', `${id}.cu`), '-o', obj],
        { stdio: 'pipe' },
      );
      objs.push(obj);
    }
    const user = join(dir, 'use_table.cpp');
    writeFileSync(
      user,
      '#include "mlagen_variants.h"\nextern "C" const char* first_id() { return mlagen_torch::kVariants[0].variant_id(); }\n',
    );
    const userObj = join(dir, 'use_table.o');
    execFileSync('g++', ['-std=c++17', '-c', '-fPIC', '-I', join(dir, 'csrc'), '-I', join(dir, 'csrc', 'include'), user, '-o', userObj], {
      stdio: 'pipe',
    });
    const lib = join(dir, 'libvariants.so');
    // nvcc links its own cudart; --no-undefined turns a missing renamed symbol into an error, as a duplicate is one.
    execFileSync(nvcc!.path, ['-shared', '-Xcompiler', '-fPIC', '-Xlinker', '--no-undefined', userObj, ...objs, '-o', lib], { stdio: 'pipe' });
    const syms = execFileSync('nm', ['-D', '--defined-only', lib], { encoding: 'utf8' });
    for (const id of ids) expect(syms).toContain(renamedSymbol(id, 'mlagen_decode'));
    expect(syms).not.toMatch(/ T mlagen_decode$/m);
  }, 600_000);
});

/** Just enough of torch/extension.h, ATen/cuda/CUDAContext.h and c10/cuda/CUDAGuard.h for the glue's calls. */
const TORCH_STUB: Record<string, string> = {
  'torch/extension.h': `#pragma once
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>
namespace c10 {
enum class ScalarType { Byte, Char, Short, Int, Long, Half, Float, Double, Bool, BFloat16, Float8_e4m3fn, Undefined };
inline const char* toString(ScalarType) { return "X"; }
class IntArrayRef {
 public:
  IntArrayRef(std::initializer_list<int64_t> v) : v_(v) {}
  IntArrayRef(std::vector<int64_t> v) : v_(std::move(v)) {}
  size_t size() const { return v_.size(); }
  int64_t operator[](size_t i) const { return v_[i]; }
 private:
  std::vector<int64_t> v_;
};
struct Device {
  std::string str() const { return "cuda:0"; }
  int8_t index() const { return 0; }
  bool operator!=(const Device&) const { return false; }
};
}  // namespace c10
namespace at {
using c10::ScalarType;
using c10::Device;
constexpr ScalarType kByte = ScalarType::Byte, kChar = ScalarType::Char, kShort = ScalarType::Short, kInt = ScalarType::Int,
                     kLong = ScalarType::Long, kHalf = ScalarType::Half, kFloat = ScalarType::Float, kDouble = ScalarType::Double,
                     kBool = ScalarType::Bool, kBFloat16 = ScalarType::BFloat16, kFloat8_e4m3fn = ScalarType::Float8_e4m3fn;
struct TensorOptions { TensorOptions dtype(ScalarType) const { return *this; } };
class Tensor {
 public:
  bool defined() const { return true; }
  bool is_cuda() const { return true; }
  Device device() const { return {}; }
  ScalarType scalar_type() const { return kFloat; }
  int64_t dim() const { return 0; }
  int64_t size(int64_t) const { return 0; }
  int64_t stride(int64_t) const { return 0; }
  c10::IntArrayRef sizes() const { return {}; }
  c10::IntArrayRef strides() const { return {}; }
  bool is_contiguous() const { return true; }
  TensorOptions options() const { return {}; }
  void* data_ptr() const { return nullptr; }
  template <typename T> T* data_ptr() const { return nullptr; }
};
inline Tensor empty(c10::IntArrayRef, TensorOptions) { return {}; }
}  // namespace at
namespace pybind11 {
struct value_error : std::runtime_error { using std::runtime_error::runtime_error; };
struct type_error : std::runtime_error { using std::runtime_error::runtime_error; };
struct object { template <typename T> object& operator=(const T&) { return *this; } };
struct arg { explicit arg(const char*) {} };
struct list { template <typename T> void append(const T&) {} };
struct dict { object operator[](const char*) { return {}; } };
template <typename... A> object make_tuple(A&&...) { return {}; }
struct module_ {
  template <typename F, typename... E> module_& def(const char*, F&&, const E&...) { return *this; }
  object attr(const char*) { return {}; }
  object doc() { return {}; }
};
}  // namespace pybind11
#define MLAGEN_STUB_CAT2(a, b) a##b
#define MLAGEN_STUB_CAT(a, b) MLAGEN_STUB_CAT2(a, b)
#define PYBIND11_MODULE(name, m) void MLAGEN_STUB_CAT(pybind11_init_, name)(::pybind11::module_ & m)
`,
  'ATen/cuda/CUDAContext.h': `#pragma once
#include <torch/extension.h>
struct cudaDeviceProp { int multiProcessorCount; };
namespace at { namespace cuda {
inline cudaDeviceProp* getDeviceProperties(int8_t) { static cudaDeviceProp p{132}; return &p; }
struct CUDAStream { void* stream() const { return nullptr; } };
inline CUDAStream getCurrentCUDAStream() { return {}; }
} }  // namespace at::cuda
`,
  'c10/cuda/CUDAGuard.h': `#pragma once
#include <torch/extension.h>
namespace c10 { namespace cuda {
struct CUDAGuard { explicit CUDAGuard(Device) {} };
} }  // namespace c10::cuda
`,
};
