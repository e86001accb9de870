#!/usr/bin/env python3
"""Summarizes the TRACE lines of an instrumented harness run (instrument.py): per-CTA times in µs from the first
CTA's start, as min / p10 / median / p90 / max over the CTAs that had work.

Usage: summarize.py TRACE_FILE...
"""
import sys


def quantiles(values):
    v = sorted(values)
    if not v:
        return 'n/a'
    pick = lambda f: v[min(len(v) - 1, int(f * len(v)))]
    return f'min {v[0]:8.2f}  p10 {pick(0.1):8.2f}  med {pick(0.5):8.2f}  p90 {pick(0.9):8.2f}  max {v[-1]:8.2f}  (n={len(v)})'


def summarize(path):
    header, ctas = None, []
    for line in open(path):
        if not line.startswith('TRACE '):
            continue
        fields = line.split()
        if fields[1].startswith('ctas='):
            header = ' '.join(fields[1:])
        elif fields[1] != 'error:':
            ctas.append([float(x) for x in fields[2:8]])
    busy = [c for c in ctas if c[4] >= 0]
    print(f'== {path}: {header}')
    print('  first TMA issued  ', quantiles([c[1] - c[0] for c in busy if c[1] >= 0]))
    print('  first tile landed ', quantiles([c[2] - c[0] for c in busy if c[2] >= 0]))
    print('  last step done    ', quantiles([c[3] for c in busy if c[3] >= 0]))
    print('  CTA end           ', quantiles([c[4] for c in busy]))
    if busy and len(busy[0]) > 5:
        order = sorted(busy, key=lambda c: c[4])
        print('  SMs of the 8 first to end:', ' '.join(str(int(c[5])) for c in order[:8]))
        print('  SMs of the 8 last to end: ', ' '.join(str(int(c[5])) for c in order[-8:]))


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for p in sys.argv[1:]:
        summarize(p)
