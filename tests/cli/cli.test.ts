// The CLI as a user runs it: exit codes and messages of bad configs, list and generate --check.
import { execa } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../dsl/render/repoRoot.ts';

const mlagen = (...args: string[]) =>
  execa('node', [join(REPO_ROOT, 'scripts/bin/mlagen.mjs'), ...args], { cwd: REPO_ROOT, reject: false });

const config = (json: object) => {
  const file = join(mkdtempSync(join(tmpdir(), 'mlagen-cli-')), 'config.json');
  writeFileSync(file, JSON.stringify(json));
  return file;
};

describe('mlagen CLI', () => {
  it('explain rejects broken configs with a non-zero exit and the field in the message', async () => {
    const over = await mlagen('explain', config({ kvStages: 3 }));
    expect(over.exitCode).toBe(1);
    expect(over.stderr).toContain('error: mlaDecode > smemPlan > total: 305');
    expect(over.stderr).toContain('> 232448 B available');
    const page = await mlagen('explain', config({ problem: { pageSize: 48 } }));
    expect(page.exitCode).toBe(1);
    expect(page.stderr).toContain('mlaDecode > problem > pageSize: 48 does not divide the KV step');
    const n = await mlagen('explain', config({ tile: { blockN: 40 }, schedule: { blockN: 40 }, problem: { pageSize: 8 } }));
    expect(n.exitCode).toBe(1);
    expect(n.stderr).toContain('mlaDecode > wgmma > qk > n: expects 8 <= N <= 256 and N % 8 == 0, got 20');
  });

  it('explain prints the plan of a good config', async () => {
    const r = await mlagen('explain', config({ mathSchedule: 'seesaw' }));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2ss');
    expect(r.stdout).toMatch(/shared memory: \d+ B of 232448 B/);
    const any = await mlagen('explain', config({ kvLoader: 'cp.async', problem: { pageSize: 0 } }));
    expect(any.exitCode).toBe(0);
    expect(any.stdout).toContain(' page any (given at launch) ');
  });

  it('list --json names every catalogue variant; generate --check is clean', async () => {
    const list = await mlagen('list', '--json');
    expect(list.exitCode).toBe(0);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((v) => v.id)).toContain('mla_sm90_bf16_kvbf16_p64_m64n64_st2_c2sn');
    const check = await mlagen('generate', '--check');
    expect(check.exitCode).toBe(0);
    expect(check.stdout).toContain('generated/ is fresh');
  });

  it('check says plainly that validation is skipped without a Hopper GPU', async () => {
    const r = await mlagen('check');
    if (r.exitCode === 77) expect(r.stderr).toContain('validation skipped');
    else expect([0, 1]).toContain(r.exitCode);
  });
});
