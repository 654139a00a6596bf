import { createStackContext } from '../../src/stack/context.ts';
import { stackStatus, stackUp, type StackAddresses } from '../../src/stack/stack.ts';

let pending: Promise<StackAddresses> | undefined;

/**
 * The real local stack for integration tests: reuses a healthy running stack (npm test starts it
 * once before the test files run), or starts it. Set SHOPFORCE_TEST_VERBOSE=1 to see progress.
 */
export function getTestStack(): Promise<StackAddresses> {
  pending ??= (async () => {
    const ctx = createStackContext({ quiet: !process.env.SHOPFORCE_TEST_VERBOSE });
    const status = await stackStatus(ctx);
    if (status.healthy) return status.addresses;
    return (await stackUp(ctx)).addresses;
  })();
  return pending;
}
