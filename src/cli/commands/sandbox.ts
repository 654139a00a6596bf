import type { Command } from 'commander';
import { createStackContext } from '../../stack/context.ts';
import { sandboxDown, sandboxStatus, sandboxUp, type SandboxStatus } from '../../sandbox/daemon.ts';

function print(status: SandboxStatus, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(JSON.stringify(status, null, 2) + '\n');
    return;
  }
  if (!status.running) {
    process.stdout.write(`sandbox org: not running (state in ${status.stateDir})\n`);
    return;
  }
  const e = status.env ?? {};
  process.stdout.write([
    `sandbox org: ${status.healthy ? 'healthy' : 'NOT ANSWERING'} (pid ${status.pid})`,
    `  login URL        ${e.SF_LOGIN_URL ?? `http://127.0.0.1:${status.ports.http}`}  (https: ${e.SF_HTTPS_LOGIN_URL ?? `https://127.0.0.1:${status.ports.https}`})`,
    `  Pub/Sub endpoint ${e.SF_PUBSUB_ENDPOINT ?? `127.0.0.1:${status.ports.pubSub}`}  (TLS, self-signed: ${e.SF_CA_CERT_PATH ?? '?'})`,
    `  username         ${e.SF_USERNAME ?? '?'}`,
    `  password         ${e.SF_PASSWORD ?? '?'}`,
    `  client id        ${e.SF_CLIENT_ID ?? '?'}`,
    `  client secret    ${e.SF_CLIENT_SECRET ?? '?'}`,
    `  JWT private key  ${e.SF_PRIVATE_KEY_PATH ?? '?'}  (certificate: ${e.SF_JWT_CERT_PATH ?? '?'})`,
    `  admin API        ${e.SF_ADMIN_URL ?? '?'}  (token in the env file)`,
    `  env file         ${status.envFile}`,
    `  log              ${status.logFile}`,
  ].join('\n') + '\n');
}

/** `shopforce sandbox up|down|status`: the local Salesforce org emulator as a background process. */
export function register(program: Command): void {
  const sandbox = program.command('sandbox').description('the local Salesforce org emulator (OAuth, REST, Bulk 2.0, CometD, Pub/Sub gRPC)');

  sandbox.command('up')
    .description('start the emulator in the background (idempotent); prints the login URL, Pub/Sub endpoint and credentials')
    .option('--json', 'print the status as JSON')
    .action(async (opts: { json?: boolean }) => {
      const ctx = createStackContext({ quiet: true });
      print(await sandboxUp(ctx.stateDir), opts.json);
    });

  sandbox.command('down')
    .description('stop the emulator (its records and change events are kept)')
    .action(async () => {
      const ctx = createStackContext({ quiet: true });
      const stopped = await sandboxDown(ctx.stateDir);
      process.stdout.write(stopped ? 'sandbox org stopped\n' : 'sandbox org was not running\n');
    });

  sandbox.command('status')
    .description('whether the emulator runs, with its addresses and credentials')
    .option('--json', 'machine-readable')
    .action(async (opts: { json?: boolean }) => {
      const ctx = createStackContext({ quiet: true });
      const status = await sandboxStatus(ctx.stateDir);
      print(status, opts.json);
      if (!status.healthy) process.exitCode = 3;
    });
}
