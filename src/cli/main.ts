import { Command } from 'commander';
import { commands } from './commands/index.ts';

const program = new Command('shopforce')
  .description('Keeps a shop\'s PostgreSQL database and a Salesforce org in step, through Kafka')
  .showHelpAfterError();

for (const register of commands) register(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`shopforce: ${message}\n`);
  process.exitCode = 1;
});
