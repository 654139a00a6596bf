import { createStackContext } from '../../src/stack/context.ts';
import { stackStatus, stackUp, type StackAddresses } from '../../src/stack/stack.ts';

let pending: Promise<StackAddresses> | undefined;

/**
 * The real stack for integration tests. Default provider: the native local processes (reuses a
 * healthy running stack — npm test starts it once before the test files — or starts it).
 * SHOPFORCE_STACK_PROVIDER=testcontainers runs the docker-compose.yml images through
 * testcontainers instead, on machines with a Docker engine. SHOPFORCE_TEST_VERBOSE=1 shows progress.
 */
export function getTestStack(): Promise<StackAddresses> {
  pending ??= process.env.SHOPFORCE_STACK_PROVIDER === 'testcontainers' ? fromContainers() : fromNativeStack();
  return pending;
}

async function fromNativeStack(): Promise<StackAddresses> {
  const ctx = createStackContext({ quiet: !process.env.SHOPFORCE_TEST_VERBOSE });
  const status = await stackStatus(ctx);
  if (status.healthy) return status.addresses;
  return (await stackUp(ctx)).addresses;
}

async function fromContainers(): Promise<StackAddresses> {
  const { startContainerStack } = await import('../../src/stack/testcontainers.ts');
  const stack = await startContainerStack();
  // the Ryuk reaper of testcontainers removes the containers when the test process exits
  return stack.addresses;
}
