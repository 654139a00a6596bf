/** The chaos table: fault, records in flight, recovery time, lost, doubled, stock, dead letters. */
import os from 'node:os';
import type { ChaosResult } from './chaos.ts';

const reasons = (r: Record<string, number>) => Object.entries(r).map(([reason, n]) => `${n}× ${reason.replace(/\|/g, '/').slice(0, 80)}`).join('; ') || '0';

export function chaosTable(result: ChaosResult): string {
  const header = ['fault', 'changes during fault', 'recovery s', 'lost', 'doubled', 'stock keys off', '`run` crashed', 'dead letters (reason)'];
  const rows = result.phases.map((p) => [
    p.fault, String(p.inFlight), p.recoveryMs === undefined ? 'not recovered' : (p.recoveryMs / 1000).toFixed(1),
    String(p.lost), String(p.doubled), `${p.count.stockOff.length}${p.count.stockUnknown ? ` (+${p.count.stockUnknown} unknown)` : ''}`, String(p.crashes.length), reasons(p.deadLetters),
  ]);
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function chaosMarkdown(result: ChaosResult): string {
  const details = result.phases.flatMap((p) => {
    const off = [...Object.entries(p.count.lost).map(([k, n]) => `lost ${n} ${k}`), ...Object.entries(p.count.doubled).map(([k, n]) => `doubled ${n} ${k}`), ...p.count.stockOff];
    const crashed = p.crashes.map((c) => `\`run\` exited by itself at ${c.at} (code ${c.exitCode}): ${c.lastErrors.join(' / ') || 'no error logged'}`);
    return [...off, ...crashed].length ? [`- ${p.fault}: ${[...off.slice(0, 20), ...crashed].join('; ')}`] : [];
  });
  return [
    '# Chaos results', '',
    `Run ${result.run} started ${result.startedAt}, ${result.seconds} s, on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), Node ${process.version}.`,
    `Traffic: ${result.ratePerSecond} changes/s on every flow, ${result.changes} changes in all; the pipeline settled ${Math.round(result.settledAfterMs / 1000)} s after the traffic stopped.`,
    'Regenerate with `npm run chaos` (see docs/chaos.md).', '',
    ...result.phases.map((p) => `- **${p.fault}**: ${p.description}`), '',
    chaosTable(result), '',
    '"changes during fault": changes the traffic committed between injection and heal (both sides); "recovery": from the heal until a shop order and an org price edit made then both landed on the other side; "lost"/"doubled": records missing or there twice on the other side (and prices not at their last value), counted once the pipeline settled; "stock keys off": stock keys whose quantity on either side is not the start plus the sum of both sides\' deltas.',
    '',
    `Records the org was sent again (idempotent upserts past one per record, not doubled records): ${JSON.stringify(result.resentWrites)}.`,
    `Traffic writes a fault refused (not counted as changes): ${JSON.stringify(result.trafficSkipped)}.`,
    `Dead letters without a reason: ${result.deadLettersWithoutReason}.`,
    ...(details.length ? ['', 'What was off:', ...details] : []), '',
  ].join('\n');
}
