// mlagen list / explain: what the catalogue holds and how one variant uses the SM.
import type { Command } from 'commander';
import { CATALOGUE } from '../../dsl/catalogue.ts';
import { loadConfigFile } from '../../dsl/config.ts';
import type { MlaDecodeConfig } from '../../dsl/kernels/mlaDecode.ts';
import { lowerMlaDecode, variantId } from '../../dsl/kernels/mlaDecode.ts';
import type { KernelPlan } from '../../dsl/plan/kernelPlan.ts';
import { planHash } from '../../dsl/plan/kernelPlan.ts';
import { manifestEntry } from '../../dsl/render/manifest.ts';
import { reportDslError } from './generate.ts';

export function findConfig(idOrFile: string): MlaDecodeConfig {
  if (idOrFile.endsWith('.json')) return loadConfigFile(idOrFile);
  const cfg = CATALOGUE.find((c) => variantId(c) === idOrFile);
  if (!cfg) throw new Error(`unknown variant '${idOrFile}'; known: ${CATALOGUE.map(variantId).join(', ')}`);
  return cfg;
}

const table = (rows: (string | number)[][]): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((v, i) => (typeof v === 'number' ? String(v).padStart(widths[i]!) : String(v).padEnd(widths[i]!))).join('  ')).join('\n');
};

export function explainText(plan: KernelPlan): string {
  const cfg = plan.config;
  const r = plan.resources;
  const out: string[] = [];
  out.push(`${plan.variantId}  (plan ${planHash(plan)})`);
  out.push(`problem: d=${cfg.problem.dQk} dv=${cfg.problem.dV} h_q ${cfg.problem.hQ.min}..${cfg.problem.hQ.max} s_q ${cfg.problem.sQ.min}..${cfg.problem.sQ.max} page ${cfg.problem.pageSize === 0 ? 'any (given at launch)' : cfg.problem.pageSize} q/kv/out ${cfg.problem.qDtype}/${cfg.problem.kvDtype}/${cfg.problem.outDtype} (causal mask and softmax scale per call)`);
  out.push('', `shared memory: ${r.smemBytes} B of ${r.smemLimit} B (${((100 * r.smemBytes) / r.smemLimit).toFixed(1)}%)`);
  out.push(table([['buffer', 'offset', 'bytes', 'align', 'holds'], ...plan.smem.buffers.map((b) => [b.name, b.offset, b.bytes, b.alignment, b.holds])]));
  out.push('', 'mbarriers:');
  out.push(table([['name', 'count', 'arrivals', 'tx bytes', 'meaning'], ...plan.mbarriers.map((b) => [b.name, b.count, b.arrivals, b.txBytes, b.meaning])]));
  out.push('', 'named barriers:');
  out.push(table([['id', 'name', 'threads', 'meaning'], ...plan.namedBarriers.map((b) => [b.id, b.name, b.threads, b.meaning])]));
  out.push('', `registers: ${r.threads} threads, cap at entry ${r.entryRegisterCap}/thread, setmaxnreg budget ${r.registerBudget} of 65536`);
  out.push(table([['role', 'warpgroups', 'maxnreg', 'does'], ...plan.roles.map((x) => [x.name, x.warpgroups, x.maxRegisters, x.does])]));
  out.push('', 'wgmma:');
  out.push(table([['op', 'instruction', 'A', 'B', 'acc regs'], ...plan.wgmma.map((w) => [w.name, w.mnemonic, `${w.aSource} ${w.aMajor}-major`, `${w.bMajor}-major`, w.accRegs])]));
  if (plan.tma.length > 0) {
    out.push('', 'TMA boxes:');
    out.push(table([['tensor', 'box (cols x rows x pages)', 'bytes', 'swizzle', 'L2'], ...plan.tma.map((t) => [t.name, t.box.join(' x '), t.bytes, t.swizzle, t.l2Hint])]));
  } else {
    out.push('', `K/V loader: ${cfg.kvLoader} (no TMA: the producer threads copy each row through the block table, any page size)`);
  }
  out.push('', `split-KV schedule: ${plan.schedule.blockN}-token blocks, fixed cost ${plan.schedule.fixedOverheadBlocks} blocks per split, ${plan.schedule.blockM} rows per CTA; num_sm_parts = SMs / ceil(s_q*h_q / ${plan.schedule.blockM})`);
  return out.join('\n');
}

export function registerExplain(program: Command): void {
  program
    .command('list')
    .description('list the catalogue variants')
    .option('--json', 'machine-readable result')
    .action((opts: { json?: boolean }) => {
      const entries = CATALOGUE.map((c) => manifestEntry(lowerMlaDecode(c)));
      if (opts.json) return console.log(JSON.stringify(entries, null, 2));
      console.log(table([['variant', 'q/kv', 'page', 'tile', 'stages', 'threads', 'smem B', 'plan'], ...entries.map((e) => [e.id, `${e.qDtype}/${e.kvDtype}`, e.pageSize === 0 ? 'any' : e.pageSize, `${e.blockM}x${e.blockN}`, e.kvStages, e.threads, e.smemBytes, e.planHash])]));
    });
  program
    .command('explain <variant>')
    .description('shared-memory plan, barriers, register budget, wgmma, TMA and schedule of a variant (an id or a JSON config file)')
    .option('--json', 'the whole KernelPlan as JSON')
    .action((idOrFile: string, opts: { json?: boolean }) => {
      try {
        const plan = lowerMlaDecode(findConfig(idOrFile));
        console.log(opts.json ? JSON.stringify(plan, null, 2) : explainText(plan));
      } catch (e) {
        if (!reportDslError(e)) console.error(`error: ${(e as Error).message}`);
        process.exitCode = 1;
      }
    });
}
