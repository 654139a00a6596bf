import { Command } from 'commander';
import { redactText } from '../observability/redact.ts';

// `shopforce … | head` closes stdout early: that is not an error
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// Loggers are created when modules load, so the level is settled before the commands are imported:
// --log-level, else LOG_LEVEL, else (for `run`) the configuration's observability.logLevel, else info for
// the long-running processors and warn for the rest.
const levelFlag = process.argv.findIndex((a) => a === '--log-level');
if (levelFlag > 0 && process.argv[levelFlag + 1]) {
  process.env.LOG_LEVEL = process.argv[levelFlag + 1];
  delete process.env.SHOPFORCE_LOG_LEVEL_IMPLICIT;
} else if (process.env.LOG_LEVEL === undefined) {
  process.env.LOG_LEVEL = ['run', 'serve'].includes(process.argv[2] ?? '') ? 'info' : 'warn';
  // not chosen by the person: a configuration's observability.logLevel may replace it (applyConfiguredLogLevel)
  process.env.SHOPFORCE_LOG_LEVEL_IMPLICIT = '1';
}

const { commands } = await import('./commands/index.ts');

const program = new Command('shopforce')
  .description('Keeps a shop\'s PostgreSQL database and a Salesforce org in step, through Kafka')
  .option('--log-level <level>', 'log level of the logs on stderr (or LOG_LEVEL; readable lines on a terminal, JSON otherwise, LOG_FORMAT=json|pretty to choose)')
  .showHelpAfterError();

for (const register of commands) register(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  // an error may quote a connection URL with its password: the secret stays out of the terminal and CI logs
  const message = redactText(err instanceof Error ? err.message : String(err));
  process.stderr.write(`shopforce: ${message}\n`);
  if (process.env.SHOPFORCE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
});
