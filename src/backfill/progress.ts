/**
 * How a backfill shows its progress: a bar with rate and ETA on a terminal (cli-progress), plain lines
 * otherwise (a log file, CI, `run`'s initial load), at most one every `everyMs`.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** The number of records to go through (once known). */
  start(total: number, done: number): void;
  /** Records done so far; `phase` says what is happening (e.g. "Account: 40,000 of 100,000 upserted"). */
  update(done: number, phase: string): void;
  /** The last word: "done", or why it stopped. */
  stop(summary: string): void;
}

/** The progress of `label` on `stream`: a bar when it is a terminal, lines otherwise. */
export function progressFor(label: string, stream: NodeJS.WriteStream = process.stderr, everyMs = 5_000): Progress {
  return stream.isTTY ? barProgress(label, stream) : lineProgress(label, (line) => stream.write(`${line}\n`), everyMs);
}

function barProgress(label: string, stream: NodeJS.WriteStream): Progress {
  const bar = new cliProgress.SingleBar({
    format: `${label} {bar} {percentage}% | {value}/{total} records | {rate} records/s | ETA {eta_formatted} | {phase}`,
    stream, etaBuffer: 50, hideCursor: true,
  }, cliProgress.Presets.shades_classic);
  let started = 0;
  let first = 0;
  const rate = (done: number) => {
    const seconds = (Date.now() - started) / 1000;
    return seconds > 0 ? Math.round((done - first) / seconds) : 0;
  };
  return {
    start(total, done) {
      started = Date.now();
      first = done;
      bar.start(total, done, { rate: 0, phase: 'starting' });
    },
    update(done, phase) {
      bar.update(done, { rate: rate(done), phase });
    },
    stop(summary) {
      bar.update({ phase: summary });
      bar.stop();
    },
  };
}

/** Lines such as "backfill customer -> salesforce: 40000/100000 (40%), 3200 records/s, ETA 19 s; Account: ...". */
export function lineProgress(label: string, write: (line: string) => void, everyMs = 5_000): Progress {
  let total = 0;
  let started = 0;
  let first = 0;
  let lastLine = 0;
  let last = { done: 0, phase: '' };
  const line = (done: number, phase: string) => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? (done - first) / seconds : 0;
    const eta = rate > 0 && total > done ? `, ETA ${Math.ceil((total - done) / rate)} s` : '';
    const share = total > 0 ? ` (${Math.floor((done / total) * 100)}%)` : '';
    write(`${label}: ${done}/${total}${share}, ${Math.round(rate)} records/s${eta}${phase ? `; ${phase}` : ''}`);
    lastLine = Date.now();
  };
  return {
    start(t, done) {
      total = t;
      started = Date.now();
      first = done;
      last = { done, phase: 'starting' };
      line(done, done > 0 ? `resuming after ${done}` : 'starting');
    },
    update(done, phase) {
      last = { done, phase };
      if (Date.now() - lastLine >= everyMs) line(done, phase);
    },
    stop(summary) {
      line(last.done, summary);
    },
  };
}
